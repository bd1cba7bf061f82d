"""Accounts' items: what an account, its capability entries, keys, grants and tokens look like in the table, and
the API models read back from them (the layout is drawn in taskboard.accounts.store)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from taskboard.accounts.keys import NewKey, hash_key
from taskboard.accounts.models import (
    Account,
    AgentProfile,
)
from taskboard.core import keys
from taskboard.reputation.record import record_of

TOKEN_PREFIX = "atr_"  # noqa: S105 - a prefix, not a secret
DIRECTORY = "Directory"
OWNERS = "OWNERS"  # the Directory partition of owner accounts (read by scripts/audit.py, never by the API)
PROFILE_TEXT = ("name", "description", "status", "webhook_url", "endpoint_url", "owner_id", "email")
# GET /agents?min_rating= reads at most this many directory pages to fill one page of agents.
DIRECTORY_READS = 5
# Retries of a profile change that lost a race with another change of the same profile.
UPDATE_TRIES = 3
# How many of an owner's agents get the sign-up grant (Settings.granted_agents_per_owner, GrantedAgentsPerOwner).
GRANTED_AGENTS_PER_OWNER = 5


# The directory lists online agents first, then busy, then offline; by id within each.
STATUS_RANK = {"online": "0", "busy": "1", "offline": "2"}


def dir_sk(status: str, account_id: str) -> str:
    return f"{STATUS_RANK[status]}{status}#{account_id}"


DIRECTORY_KEY = re.compile(r"^(0online|1busy|2offline)#[a-z0-9][a-z0-9_-]{2,63}$")


@dataclass(frozen=True)
class NewAccount:
    """An account about to be created, with its first key."""

    id: str
    kind: str
    name: str | None
    created_at: str
    description: str = ""
    capabilities: tuple[str, ...] = ()
    status: str = "online"
    webhook_url: str | None = None
    endpoint_url: str | None = None
    price_per_task: int | None = None
    metadata: dict[str, Any] | None = None
    owner_id: str | None = None
    email: str | None = None
    grant: int = 0  # credits a new agent starts with (a ledger entry of type "grant")


def account_item(account: NewAccount) -> dict[str, Any]:
    item: dict[str, Any] = {
        **keys.account(account.id),
        "id": {"S": account.id},
        "kind": {"S": account.kind},
        "description": {"S": account.description},
        "capabilities": {"L": [{"S": cap} for cap in account.capabilities]},
        "status": {"S": account.status},
        "created_at": {"S": account.created_at},
        "updated_at": {"S": account.created_at},
        "key_count": {"N": "1"},
        "version": {"N": "1"},
        "balance": {"N": str(account.grant)},
        "escrowed": {"N": "0"},
    }
    for name in PROFILE_TEXT:
        value = getattr(account, name)
        if value is not None and name not in ("description", "status"):
            item[name] = {"S": value}
    if account.price_per_task is not None:
        item["price_per_task"] = {"N": str(account.price_per_task)}
    if account.metadata is not None:
        item["metadata"] = {"S": json.dumps(account.metadata, separators=(",", ":"))}
    # agents are the directory (GET /agents); owners sit in a partition of their own, which only `make audit`
    # reads, so every account holding credits can be listed without a Scan
    item["dir_pk"] = {"S": "AGENTS" if account.kind == "agent" else OWNERS}
    item["dir_sk"] = {"S": dir_sk(account.status, account.id)}
    return item


def capability_item(account_id: str, capability: str, status: str) -> dict[str, Any]:
    return {
        "pk": {"S": keys.account_pk(account_id)},
        "sk": {"S": f"CAP#{capability}"},
        "dir_pk": {"S": f"CAP#{capability}"},
        "dir_sk": {"S": dir_sk(status, account_id)},
    }


def grant_item(account: NewAccount) -> dict[str, Any]:
    """The ledger entry of a new account's sign-up grant (written in the account's own transaction)."""
    entry_id = "led_" + uuid.uuid4().hex
    return {
        "pk": {"S": keys.account_pk(account.id)},
        "sk": {"S": f"LEDGER#{account.created_at}#{entry_id}"},
        "id": {"S": entry_id},
        "type": {"S": "grant"},
        "amount": {"N": str(account.grant)},
        "balance_after": {"N": str(account.grant)},
        "created_at": {"S": account.created_at},
    }


def key_items(account_id: str, kind: str, owner_id: str | None, made: NewKey, now: str) -> list[dict[str, Any]]:
    """The key by its hash (what the authorizer reads) and the account's reference to it (to list and revoke)."""
    digest = hash_key(made.key)
    by_hash = {
        "pk": {"S": f"KEY#{digest}"},
        "sk": {"S": "KEY"},
        "account_id": {"S": account_id},
        "key_id": {"S": made.key_id},
        "role": {"S": kind},
        "created_at": {"S": now},
    }
    if owner_id:
        by_hash["owner_id"] = {"S": owner_id}
    reference = {
        "pk": {"S": keys.account_pk(account_id)},
        "sk": {"S": f"KEY#{made.key_id}"},
        "key_hash": {"S": digest},
        "prefix": {"S": made.key[:8]},
        "created_at": {"S": now},
    }
    return [by_hash, reference]


def text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value else None


def account_from(item: dict[str, Any]) -> Account:
    metadata = text(item, "metadata")
    price = item.get("price_per_task")
    return Account(
        id=item["id"]["S"] if "id" in item else keys.account_id_of(item["pk"]["S"]),
        kind=text(item, "kind") or "agent",  # type: ignore[arg-type]
        name=text(item, "name"),
        description=text(item, "description") or "",
        capabilities=[cap["S"] for cap in item.get("capabilities", {}).get("L", [])],
        status=text(item, "status") or "online",  # type: ignore[arg-type]
        webhook_url=text(item, "webhook_url"),
        endpoint_url=text(item, "endpoint_url"),
        price_per_task=int(price["N"]) if price else None,
        metadata=json.loads(metadata) if metadata else None,
        owner_id=text(item, "owner_id"),
        created_at=item["created_at"]["S"],
        updated_at=text(item, "updated_at") or item["created_at"]["S"],
        email=text(item, "email"),
        key_count=int(item.get("key_count", {}).get("N", "0")),
        **record_of(item).shown(),
    )


def public(account: Account) -> AgentProfile:
    return AgentProfile(**account.model_dump(exclude={"email", "key_count"}))


def public_from(item: dict[str, Any]) -> AgentProfile:
    return public(account_from(item))
