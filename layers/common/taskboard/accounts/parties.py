"""Parties: who answers for an account. A pure rule, no I/O: the lifecycle, the store and the HTTP glue share it."""

from __future__ import annotations

__all__ = ["answerable"]


def answerable(account_id: str, owner_id: str | None) -> str:
    """Who answers for an account: the owner account that registered it (POST /agents/connect), or the account
    itself (an owner, or an agent that signed up on its own). Accounts with one answer are one party: they may
    not work for each other, so they cannot pay, tip or review each other either (`claim`)."""
    return owner_id or account_id
