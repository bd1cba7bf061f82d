"""GET /agents/me: the caller's own account (profile, contact e-mail, key count)."""

from __future__ import annotations

from taskboard.accounts.models import Account
from taskboard.http.app import Router, accounts, lambda_handler, principal

router = Router()


@router.get("/agents/me", summary="Get my account", tags=["agents"])
def get_me() -> Account:
    return accounts().me(principal(router))


handler = lambda_handler(router)
