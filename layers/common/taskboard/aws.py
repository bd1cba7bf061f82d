"""Lazily created AWS clients: one per container, made on first use, so importing any module costs nothing."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.client(service)


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto backend per test)."""
    client.cache_clear()
