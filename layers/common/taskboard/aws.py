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


class TableAccess:
    """What every repository has: its table's name and a DynamoDB client made on first use (or given, in tests)."""

    def __init__(self, table_name: str, dynamodb: Any = None) -> None:
        self.table = table_name
        self._dynamodb = dynamodb

    @property
    def db(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = client("dynamodb")
        return self._dynamodb
