"""API keys: random, recognisable prefix, shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.core.errors import InvalidRequest, Unauthorized

KEY_PREFIX = "atb_"
_KEY_BODY_LENGTH = 43  # secrets.token_urlsafe(32)


class NewKey(NamedTuple):
    key: str
    key_id: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(key=key, key_id="key_" + hash_key(key)[:16])


class ConflictingKeys(InvalidRequest):
    """Two key headers name two different keys: which one is meant cannot be guessed."""

    code = "conflicting_keys"

    def __init__(self) -> None:
        super().__init__(
            "x-api-key, X-Agent-API-Key and Authorization carry different keys; send one key (in any one of them)."
        )


# The authorizer cannot answer 400 itself (only allow, deny or 401): it lets such a request through as
# anonymous with this refusal in its context, and the handler answers it (taskboard.http.app).
REFUSAL_CONTEXT = {"role": "anonymous", "refusal": ConflictingKeys.code}


# The headers a key may come in: ours, and the one clients of the UpClaws/OpenClawMart reference send.
KEY_HEADERS = ("x-api-key", "x-agent-api-key")


def key_from_headers(headers: dict[str, str] | None) -> str | None:
    """The key from `x-api-key: KEY`, `X-Agent-API-Key: KEY` or `Authorization: Bearer KEY` (header names are
    case-insensitive); the same key in several is one key. Raises ConflictingKeys for different ones."""
    lowered = {name.lower(): value for name, value in (headers or {}).items() if isinstance(value, str)}
    scheme, _, credentials = lowered.get("authorization", "").partition(" ")
    bearer = credentials.strip() if scheme.lower() == "bearer" else ""
    found = {key for key in (*(lowered.get(name, "").strip() for name in KEY_HEADERS), bearer) if key}
    if len(found) > 1:
        raise ConflictingKeys()
    return found.pop() if found else None


def looks_like_key(key: str) -> bool:
    return key.startswith(KEY_PREFIX) and len(key) == len(KEY_PREFIX) + _KEY_BODY_LENGTH


class Caller(NamedTuple):
    """Who is calling, as the authorizer found it: handed to the handlers in the request context. (A NamedTuple,
    as the other small values on every request's path: ~0.15 ms to define where a dataclass takes ~1 ms, each
    cold start.)"""

    account_id: str
    role: str  # "agent" or "owner"
    key_id: str
    owner_id: str | None = None

    def context(self) -> dict[str, str]:
        """The authorizer's context (API Gateway passes string values through to the integration)."""
        return {
            "account_id": self.account_id,
            "role": self.role,
            "key_id": self.key_id,
            "owner_id": self.owner_id or "",
        }

    @classmethod
    def from_context(cls, context: dict[str, Any] | None) -> Caller | None:
        """The caller a request's `requestContext.authorizer` names; None for an anonymous request."""
        if not context or not context.get("account_id"):
            return None
        return cls(
            account_id=str(context["account_id"]),
            role=str(context.get("role") or "agent"),
            key_id=str(context.get("key_id") or ""),
            owner_id=str(context.get("owner_id") or "") or None,
        )


class KeyLookup(TableAccess):
    """The authorizer's one read: a key's hash to its account, cached in the container for `ttl` seconds.

    The read is an UpdateItem that also stamps `last_used_at`, so a key's last use is known to within the cache
    period without a write per request. A revoked key keeps working at most `ttl` seconds in a container that
    had it cached (README: "Keys")."""

    MAX_ENTRIES = 10_000

    def __init__(
        self,
        table_name: str,
        ttl: float,
        clock: Callable[[], str],
        monotonic: Callable[[], float] = time.monotonic,
        dynamodb: Any = None,
    ) -> None:
        super().__init__(table_name, dynamodb)
        self.ttl = ttl
        self.clock = clock
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, Caller]] = {}

    def caller(self, key: str) -> Caller:
        """The key's caller. Raises Unauthorized for a malformed, unknown or revoked key."""
        if not looks_like_key(key):
            raise Unauthorized("API key is not valid.")
        digest = hash_key(key)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > self.monotonic():
            return cached[1]
        try:
            response = self.db.update_item(
                TableName=self.table,
                Key=keys.api_key(digest),
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=codec.values(now=self.clock()),
                ReturnValues="ALL_NEW",
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            self._cache.pop(digest, None)
            raise Unauthorized("API key is not valid.") from None
        item = response["Attributes"]
        found = Caller(
            account_id=item["account_id"]["S"],
            role=item.get("role", {}).get("S", "agent"),
            key_id=item["key_id"]["S"],
            owner_id=item.get("owner_id", {}).get("S"),
        )
        if self.ttl > 0:
            if len(self._cache) >= self.MAX_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (self.monotonic() + self.ttl, found)
        return found


@lru_cache(maxsize=1)
def key_lookup() -> KeyLookup:
    """The container's KeyLookup (the authorizer's; kept here so the authorizer imports nothing else)."""
    from taskboard.core.clock import to_iso, utc_now
    from taskboard.core.settings import get_settings

    settings = get_settings()
    return KeyLookup(settings.table_name, settings.authorizer_cache_seconds, clock=lambda: to_iso(utc_now()))
