"""API keys: random, recognisable prefix, shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from taskboard.aws import TableAccess
from taskboard.errors import Unauthorized

KEY_PREFIX = "atb_"
_KEY_BODY_LENGTH = 43  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewKey:
    key: str
    key_id: str
    account_id: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(key=key, key_id="key_" + hash_key(key)[:16], account_id=str(uuid.uuid4()))


def key_from_headers(headers: dict[str, str] | None) -> str | None:
    """The key from `x-api-key: KEY` or `Authorization: Bearer KEY` (header names are case-insensitive)."""
    lowered = {name.lower(): value for name, value in (headers or {}).items() if isinstance(value, str)}
    if lowered.get("x-api-key"):
        return lowered["x-api-key"].strip()
    scheme, _, credentials = lowered.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def looks_like_key(key: str) -> bool:
    return key.startswith(KEY_PREFIX) and len(key) == len(KEY_PREFIX) + _KEY_BODY_LENGTH


class KeyRepository(TableAccess):
    """Keys (pk KEY#<sha256>) and accounts (pk ACCOUNT#<id>) in the board's table."""

    def create_account(self, new: NewKey, created_at: str, email: str | None, name: str | None) -> None:
        account: dict[str, Any] = {
            "pk": {"S": f"ACCOUNT#{new.account_id}"},
            "sk": {"S": "ACCOUNT"},
            "created_at": {"S": created_at},
            "kind": {"S": "agent"},
        }
        if email:
            account["email"] = {"S": email}
        if name:
            account["name"] = {"S": name}
        key = {
            "pk": {"S": f"KEY#{hash_key(new.key)}"},
            "sk": {"S": "KEY"},
            "account_id": {"S": new.account_id},
            "key_id": {"S": new.key_id},
            "created_at": {"S": created_at},
        }
        self.db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self.table, "Item": account, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self.table, "Item": key, "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )

    def account_for(self, key: str) -> str:
        """The account id a key belongs to. Raises Unauthorized for a missing, malformed or unknown key."""
        if not looks_like_key(key):
            raise Unauthorized("API key is not valid.")
        digest = hash_key(key)
        response = self.db.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"KEY#{digest}"}, "sk": {"S": "KEY"}},
            ProjectionExpression="account_id",
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            raise Unauthorized("API key is not valid.")
        return str(item["account_id"]["S"])
