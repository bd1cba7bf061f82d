"""`Idempotency-Key` on every POST: a retry gets the first response again instead of doing the work twice.

Powertools idempotency with its DynamoDB persistence (IdempotencyTable, records expire after a day). A record
is scoped to the caller's account (the source IP for POST /keys, which has none), the route and the path, so
one client's key never collides with another's. The request body's hash is checked: the same key with another
body is refused (422), and a retry while the first call is still running gets 409. A 5xx is never kept, so a
retry after a failure does the work for real."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from taskboard.errors import BoardError, Conflict, InvalidRequest

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX = 255
RETENTION_SECONDS = 86_400

Response = dict[str, Any]


class IdempotencyKeyReused(BoardError):
    status, code = 422, "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


class _NotKept(Exception):
    """A 5xx: handed back to the caller, but not remembered (Powertools deletes the record on an exception)."""

    def __init__(self, response: Response) -> None:
        super().__init__("not kept")
        self.response = response


def key_from(event: dict[str, Any]) -> str | None:
    """The Idempotency-Key header of a POST, if any. Raises InvalidRequest for one that cannot be a key."""
    if event.get("httpMethod") != "POST":
        return None
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    key = headers.get(HEADER)
    if key is None:
        return None
    if not isinstance(key, str) or not 1 <= len(key) <= KEY_MAX or not key.isprintable():
        raise InvalidRequest(f"Idempotency-Key must be 1-{KEY_MAX} printable characters.")
    return key


@lru_cache(maxsize=1)
def _store(table_name: str) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name)


def forget() -> None:
    _store.cache_clear()


def _replayed(response: Any, idempotent_data: Any) -> Any:
    response.setdefault("headers", {})[REPLAYED_HEADER] = "true"
    return response


def once(
    event: dict[str, Any], context: Any, caller: str | None, table_name: str, run: Callable[[], Response]
) -> Response:
    """`run()` (the request), or the response it gave before to the same key, caller, route and body."""
    key = key_from(event)
    if key is None:
        return run()
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    source = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp", "")
    request = {
        "scope": caller or f"ip:{source}",
        "route": event.get("resource"),
        "path": event.get("path"),
        "key": key,
        "body": hashlib.sha256((event.get("body") or "").encode()).hexdigest(),
    }
    config = IdempotencyConfig(
        event_key_jmespath="[scope, route, path, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=RETENTION_SECONDS,
        response_hook=_replayed,
    )
    config.register_lambda_context(context)

    def first_time(request: dict[str, Any]) -> Response:
        response = run()
        if int(response.get("statusCode", 500)) >= 500:
            raise _NotKept(response)
        return response

    remembered = idempotent_function(
        first_time, data_keyword_argument="request", persistence_store=_store(table_name), config=config
    )
    try:
        return remembered(request=request)  # type: ignore[no-any-return]
    except _NotKept as failed:
        return failed.response
    except IdempotencyValidationError:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body; use a new key."
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise IdempotencyInProgress(
            "A request with this Idempotency-Key is still being processed; retry in a moment."
        ) from None
