"""Webhook signatures: the Standard Webhooks scheme, plus the single-header style AgentMarket receivers know.

Standard Webhooks (https://www.standardwebhooks.com): a secret is `whsec_` + base64 of random bytes; each
delivery carries `webhook-id`, `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`,
`v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">` keyed with the secret's decoded bytes, one such
signature per live secret separated by spaces (during a rotation both verify). `X-Signature` is
`sha256=<hex HMAC-SHA256 of the body>` keyed with the newest secret's full text, as AgentMarket signs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix, not a secret
_SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` Standard Webhooks signature."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def body_signature(secret: str, body: bytes) -> str:
    """The `X-Signature` value: `sha256=<hex>` of the body alone, keyed with the secret's text."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_headers(message_id: str, timestamp: int, body: bytes, live_secrets: list[str]) -> dict[str, str]:
    """The headers of one delivery attempt. `live_secrets` newest first; at least one."""
    if not live_secrets:
        raise ValueError("a delivery needs at least one secret")
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in live_secrets),
        "X-Signature": body_signature(live_secrets[0], body),
    }
