"""Lazily created AWS clients: one per container, made on first use, so importing any module costs nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from typing import Any

BATCH_GET_MAX = 100  # keys per BatchGetItem request (DynamoDB's limit)


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

    def batch_get(self, keys: list[dict[str, Any]], **options: Any) -> Iterator[dict[str, Any]]:
        """Every item of `keys` that exists, in BatchGetItem requests of at most 100 keys; the keys DynamoDB
        leaves unprocessed (throttling, 16 MB responses) are asked for again, with a short growing pause.
        `options` go with each request: ProjectionExpression, ConsistentRead, ExpressionAttributeNames."""
        for start in range(0, len(keys), BATCH_GET_MAX):
            request: dict[str, Any] = {self.table: {"Keys": keys[start : start + BATCH_GET_MAX], **options}}
            for retry in range(1_000):
                if retry:
                    time.sleep(min(0.05 * 2**retry, 1.0))
                response = self.db.batch_get_item(RequestItems=request)
                yield from response["Responses"].get(self.table, [])
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
