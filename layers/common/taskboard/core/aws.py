"""Lazily created AWS clients: one per container, made on first use, so importing any module costs nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from typing import Any

from taskboard.core.errors import Unavailable, WriteConflict

BATCH_GET_MAX = 100  # keys per BatchGetItem request (DynamoDB's limit)
# How long batch_get keeps asking for keys DynamoDB left unprocessed before it gives up (503, retry later).
BATCH_GET_SECONDS = 3.0

# Every AWS call is bounded: botocore's defaults (60 s to connect, 60 s to read, up to 10 attempts for DynamoDB
# in legacy mode) would outlive any of our functions (10 s; tests/unit/test_batch_get.py checks the sum).
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
MAX_ATTEMPTS = 2  # the first call and one retry, with botocore's standard-mode backoff between them


def worst_case_call_seconds() -> float:
    """The longest one client call can take: every attempt timing out, plus standard mode's largest backoffs."""
    backoffs = sum(min(20.0, 2.0**attempt) for attempt in range(1, MAX_ATTEMPTS))
    return MAX_ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT) + backoffs


def client_config() -> Any:
    """The botocore Config of every client: bounded timeouts, standard-mode retries."""
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    )


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.client(service, config=client_config())


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

    def transact(self, actions: list[dict[str, Any]]) -> None:
        """One TransactWriteItems: all of `actions` or nothing. Raises WriteConflict when a condition failed or
        another transaction held an item (another change came first: read again and decide again)."""
        try:
            self.db.transact_write_items(TransactItems=actions)
        except self.db.exceptions.TransactionCanceledException as error:
            reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
            if reasons & {"ConditionalCheckFailed", "TransactionConflict"}:
                raise WriteConflict() from error
            raise

    def batch_get(self, keys: list[dict[str, Any]], **options: Any) -> Iterator[dict[str, Any]]:
        """Every item of `keys` that exists, in BatchGetItem requests of at most 100 keys; the keys DynamoDB
        leaves unprocessed (throttling, 16 MB responses) are asked for again, with a short growing pause, for at
        most BATCH_GET_SECONDS in all (then `Unavailable`: the caller answers 503 and nothing was written).
        `options` go with each request: ProjectionExpression, ConsistentRead, ExpressionAttributeNames."""
        deadline = time.monotonic() + BATCH_GET_SECONDS
        for start in range(0, len(keys), BATCH_GET_MAX):
            request: dict[str, Any] = {self.table: {"Keys": keys[start : start + BATCH_GET_MAX], **options}}
            retry = 0
            while request:
                if retry:
                    pause = min(0.05 * 2**retry, 1.0)
                    if time.monotonic() + pause > deadline:
                        raise Unavailable("The table is busy right now; retry in a moment.", retry_after=1)
                    time.sleep(pause)
                response = self.db.batch_get_item(RequestItems=request)
                yield from response["Responses"].get(self.table, [])
                request = response.get("UnprocessedKeys") or {}
                retry += 1
