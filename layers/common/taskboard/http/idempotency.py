"""`Idempotency-Key` on every POST: a retry gets the first response again instead of doing the work twice.

Powertools idempotency with its DynamoDB persistence (IdempotencyTable, records expire after a day). A record
is scoped to the caller's account (the source IP for the sign-ups, which have none), the route, the path and
the query string (parameters in any order), so one client's key never collides with another's. The request
body is compared as parsed JSON (sorted keys, no whitespace), by its hash: the same key with another body is
refused (422), and a retry while the first call is still running gets 409. A 5xx is never kept, so a retry
after a failure does the work for real.

Secrets are never kept. A response that hands out a secret (an API key, a registration token, a webhook
secret; SECRET_FIELDS names them per route) is stored with those fields set to null and a note of which were
withheld, and a retry of it gets `409 idempotency_secret_shown` with that redacted first response: the work is
not done twice and the secret is not shown twice (it no longer exists anywhere but with whoever got the first
answer). Two clients behind one NAT that send the same key to a sign-up can therefore never receive each
other's secret: the record holds none. As a second line, every kept response is searched for anything shaped
like a board secret (`atb_`, `atr_`, `whsec_`); one outside SECRET_FIELDS is withheld too and logged as an
error, or, with STRICT_SECRET_SCAN (the tests), raises UndeclaredSecret."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from taskboard.core.errors import BoardError, Conflict, InvalidJson, InvalidRequest
from taskboard.core.json_reader import read_json

HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX = 255
RETENTION_SECONDS = 86_400

Response = dict[str, Any]

# The fields of each POST route's answer that hold a secret shown once (dotted paths into the JSON body). A new
# secret-bearing route or field goes here; tests/integration/test_idempotency_secrets.py checks this against
# every response field the API document describes as "Shown once", and the scan below against the rest.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "/keys": ("key",),
    "/agents/register": ("key",),
    "/owners/register": ("key",),
    "/agents/connect": ("key",),
    "/agents/me/keys": ("key",),
    "/agents/register-token": ("registration_token",),
    "/webhooks": ("secret",),
    "/webhooks/{webhook_id}/rotate": ("secret",),
    "/tasks": ("callback.secret",),
}

# What to do instead of retrying, per route, when the secret of the first answer is gone.
_INSTEAD: dict[str, str] = {
    "/keys": "If that answer was lost, sign up again with a new Idempotency-Key.",
    "/agents/register": "If that answer was lost, register again with a new Idempotency-Key.",
    "/owners/register": "If that answer was lost, register again with a new Idempotency-Key.",
    "/agents/connect": "If that answer was lost, the agent's owner can issue a registration token for a new "
    "agent_id (this one is taken by the account the first request made).",
    "/agents/me/keys": "If that answer was lost, revoke that key (DELETE /agents/me/keys/{key_id}, key_id in "
    "first_response) and make another with a new Idempotency-Key.",
    "/agents/register-token": "If that answer was lost, issue another token with a new Idempotency-Key.",
    "/webhooks": "If that answer was lost, get a new secret with POST /webhooks/{id}/rotate (id in first_response).",
    "/webhooks/{webhook_id}/rotate": "If that answer was lost, rotate again with a new Idempotency-Key.",
    "/tasks": "The task was posted (first_response). If that answer was lost, get a new callback secret with "
    "POST /webhooks/{webhook_id}/rotate (webhook_id is cb_<task id>).",
}

# Anything shaped like a secret the board makes: an API key or a registration token (prefix + token_urlsafe(32)),
# a webhook secret (whsec_ + base64 of 32 bytes). Searched for inside every string of a response to be kept.
SECRET_SHAPE = re.compile(r"(?:atb_|atr_)[A-Za-z0-9_-]{43}|whsec_[A-Za-z0-9+/]{43}=")
# Set by the tests: a secret-shaped value outside SECRET_FIELDS raises instead of being withheld and logged.
STRICT_SECRET_SCAN = False

_WITHHELD = "withheld"  # the record's note of the fields set to null (never in an answer)
_EVERYTHING = "*"  # the whole body was withheld (a secret where the field-wise redaction could not reach)


class IdempotencyKeyReused(BoardError):
    status, code = 422, "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


class IdempotencySecretShown(Conflict):
    """A retry of a request whose first answer carried a secret: that answer is not shown again (see above)."""

    code = "idempotency_secret_shown"


class UndeclaredSecret(AssertionError):
    """A secret-shaped value in a response field that SECRET_FIELDS does not name (only with STRICT_SECRET_SCAN)."""


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


# ---- what makes two requests the same one ----------------------------------------------------------------------


def canonical_query(event: dict[str, Any]) -> list[list[Any]]:
    """The query string as `[[name, [values...]], ...]` sorted by name: `?a=1&b=2` and `?b=2&a=1` are one query.
    A repeated parameter keeps its values in the order sent (what they mean is the endpoint's business)."""
    multi: dict[str, Any] = event.get("multiValueQueryStringParameters") or {}
    single: dict[str, Any] = event.get("queryStringParameters") or {}
    names = sorted(set(multi) | set(single))
    return [[name, list(multi.get(name) or [single.get(name)])] for name in names]


def canonical_body(event: dict[str, Any]) -> str:
    """The body as the handler reads it, in one spelling: JSON with sorted keys and no whitespace (so the same
    JSON with other whitespace, key order or escapes is the same body). A body that is not strict JSON (the
    handler refuses it) is compared as sent, marked so that it never equals a JSON one; no body is the empty
    string, which no JSON text is."""
    body = event.get("body")
    if not body:
        return ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return f"as sent, base64: {body}"
    try:
        parsed = read_json(body)  # the reader at the door: what the handler reads is what is compared
    except InvalidJson:
        return f"as sent: {body}"
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---- what is kept of an answer ---------------------------------------------------------------------------------


def _strings(value: Any, path: str) -> list[tuple[str, str]]:
    """Every string inside a JSON value, with its dotted path (a dictionary key counts as its value's)."""
    if isinstance(value, str):
        return [(path, value)]
    found: list[tuple[str, str]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for name, item in items:
        inner = f"{path}.{name}" if path else str(name)
        if isinstance(name, str):
            found.append((inner, name))
        found.extend(_strings(item, inner))
    return found


def _null_at(value: Any, path: str) -> bool:
    """Sets the field at a dotted path to null; whether there was a value to withhold."""
    *parents, last = path.split(".")
    holder: Any = None
    index: Any = None
    for part in [*parents, last]:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            holder, index = value, int(part)
        elif isinstance(value, dict) and part in value:
            holder, index = value, part
        else:
            return False
        value = holder[index]
    if value is None:
        return False
    holder[index] = None
    return True


def _report_undeclared(route: str, paths: list[str]) -> None:
    """Where a secret-shaped value was that no entry of SECRET_FIELDS names (never the value itself)."""
    message = f"secret-shaped value at {', '.join(paths)} in the answer to POST {route}, not in SECRET_FIELDS"
    if STRICT_SECRET_SCAN:
        raise UndeclaredSecret(message)
    from taskboard.runtime import logger, metrics

    logger.error(message + "; withheld from the idempotency record")
    metrics.add_metric(name="UndeclaredSecrets", unit="Count", value=1)


def kept_form(route: str, response: Response) -> Response:
    """The response as the idempotency record keeps it: a copy with the route's secret fields set to null, then
    anything else shaped like a secret too, and the list of what was withheld. Where a secret-shaped value is
    out of reach of a field (a header, a dictionary key, a body that is not JSON), the whole answer is withheld."""
    kept = copy.deepcopy(response)
    withheld: list[str] = []
    reported = False
    text = kept.get("body")
    body: Any = None
    if isinstance(text, str) and not kept.get("isBase64Encoded"):
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):
            body = None
    if body is not None:
        withheld = [path for path in SECRET_FIELDS.get(route, ()) if _null_at(body, path)]
        undeclared = sorted({path for path, value in _strings(body, "") if SECRET_SHAPE.search(value)})
        if undeclared:
            _report_undeclared(route, undeclared)
            reported = True
            withheld.extend(path for path in undeclared if _null_at(body, path))
        if withheld:
            kept["body"] = json.dumps(body)
    if SECRET_SHAPE.search(json.dumps(kept, default=str)):
        if not reported:
            _report_undeclared(route, ["headers" if body is not None else "body"])
        kept, withheld = {"statusCode": kept.get("statusCode"), "body": None}, [_EVERYTHING]
    if withheld:
        kept[_WITHHELD] = withheld
    return kept


def _secret_shown(event: dict[str, Any], route: str, kept: Response, withheld: list[str]) -> Response:
    """The answer to a retry of a request whose first answer carried a secret."""
    error = IdempotencySecretShown(
        "The first request with this Idempotency-Key succeeded, and its answer carried a secret that is shown "
        "only once and never kept, so it is not shown again (first_response is that answer without it). "
        + _INSTEAD.get(route, "If that answer was lost, send the request again with a new Idempotency-Key."),
        withheld=withheld,
        first_status=int(kept.get("statusCode") or 0),
        first_response=json.loads(kept["body"]) if isinstance(kept.get("body"), str) else None,
    )
    body = {
        "error": error.message,
        "code": error.code,
        "request_id": (event.get("requestContext") or {}).get("requestId"),
        **error.extra,
    }
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": "application/json", REPLAYED_HEADER: "true"},
        "body": json.dumps(body),
    }


# ---- the store -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _store(table_name: str) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name)


def forget() -> None:
    _store.cache_clear()


def once(
    event: dict[str, Any], context: Any, caller: str | None, table_name: str, run: Callable[[], Response]
) -> Response:
    """`run()` (the request), or the response it gave before to the same key, caller, route, path, query and
    body; for a response that carried a secret, a 409 saying so instead."""
    key = key_from(event)
    if key is None:
        return run()
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.custom_dict import CustomDictSerializer

    route = str(event.get("resource") or "")
    source = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp", "")
    request = {
        "scope": caller or f"ip:{source}",
        "route": route,
        "path": event.get("path"),
        "query": canonical_query(event),
        "key": key,
        "body": _digest(canonical_body(event)),
    }
    kept: dict[str, Response] = {}

    def replayed(response: Any, idempotent_data: Any) -> Any:
        withheld = response.pop(_WITHHELD, None)
        if withheld:
            return _secret_shown(event, route, response, withheld)
        response.setdefault("headers", {})[REPLAYED_HEADER] = "true"
        return response

    config = IdempotencyConfig(
        event_key_jmespath="[scope, route, path, query, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=RETENTION_SECONDS,
        hash_function="sha256",
        response_hook=replayed,
    )
    config.register_lambda_context(context)

    def first_time(request: dict[str, Any]) -> Response:
        response = run()
        if int(response.get("statusCode", 500)) >= 500:
            raise _NotKept(response)
        kept["record"] = kept_form(route, response)  # before Powertools saves anything; the caller gets `response`
        return response

    remembered = idempotent_function(
        first_time,
        data_keyword_argument="request",
        persistence_store=_store(table_name),
        config=config,
        output_serializer=CustomDictSerializer(to_dict=lambda _response: kept["record"], from_dict=lambda data: data),
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
