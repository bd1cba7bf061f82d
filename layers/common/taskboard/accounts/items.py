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
from taskboard.core import codec, keys
from taskboard.reputation.record import record_of

TOKEN_PREFIX = "atr_"  # noqa: S105 - a prefix, not a secret
DIRECTORY = "Directory"
OWNERS = "OWNERS"  # the Directory partition of owner accounts (read by scripts/audit.py, never by the API)
OPERATORS = "OPERATORS"  # the operators' (they hold no credits: the audit has nothing to read there)
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
    profile = {name: getattr(account, name) for name in PROFILE_TEXT if name not in ("description", "status")}
    metadata = None if account.metadata is None else json.dumps(account.metadata, separators=(",", ":"))
    return {
        **keys.account(account.id),
        **codec.item(
            id=account.id,
            kind=account.kind,
            description=account.description,
            capabilities=list(account.capabilities),
            status=account.status,
            created_at=account.created_at,
            updated_at=account.created_at,
            key_count=1,
            version=1,
            balance=account.grant,
            escrowed=0,
            ledger_seq=1 if account.grant else None,  # the grant is entry 1 (taskboard.money.purse numbers on)
            **profile,
            price_per_task=account.price_per_task,
            metadata=metadata,
            # agents are the directory (GET /agents); owners sit in a partition of their own, which only
            # `make audit` reads, so every account holding credits can be listed without a Scan
            dir_pk={"agent": "AGENTS", "owner": OWNERS}.get(account.kind, OPERATORS),
            dir_sk=dir_sk(account.status, account.id),
        ),
    }


def capability_item(account_id: str, capability: str, status: str) -> dict[str, Any]:
    return {
        **keys.in_account(account_id, f"CAP#{capability}"),
        **codec.item(dir_pk=f"CAP#{capability}", dir_sk=dir_sk(status, account_id)),
    }


def grant_item(account: NewAccount) -> dict[str, Any]:
    """The ledger entry of a new account's sign-up grant (written in the account's own transaction)."""
    entry_id = "led_" + uuid.uuid4().hex
    return {
        **keys.ledger_entry(account.id, 1, entry_id),
        **codec.item(
            id=entry_id,
            type="grant",
            amount=account.grant,
            balance_after=account.grant,
            created_at=account.created_at,
        ),
    }


def key_items(account_id: str, kind: str, owner_id: str | None, made: NewKey, now: str) -> list[dict[str, Any]]:
    """The key by its hash (what the authorizer reads) and the account's reference to it (to list and revoke)."""
    digest = hash_key(made.key)
    by_hash = {
        **keys.api_key(digest),
        **codec.item(account_id=account_id, key_id=made.key_id, role=kind, created_at=now, owner_id=owner_id or None),
    }
    reference = {
        **keys.in_account(account_id, f"KEY#{made.key_id}"),
        **codec.item(key_hash=digest, prefix=made.key[:8], created_at=now),
    }
    return [by_hash, reference]


def account_from(item: dict[str, Any]) -> Account:
    metadata = codec.text(item, "metadata")
    price = item.get("price_per_task")
    return Account(
        id=item["id"]["S"] if "id" in item else keys.account_id_of(item["pk"]["S"]),
        kind=codec.text(item, "kind") or "agent",  # type: ignore[arg-type]
        name=codec.text(item, "name"),
        description=codec.text(item, "description") or "",
        capabilities=[cap["S"] for cap in item.get("capabilities", {}).get("L", [])],
        status=codec.text(item, "status") or "online",  # type: ignore[arg-type]
        webhook_url=codec.text(item, "webhook_url"),
        endpoint_url=codec.text(item, "endpoint_url"),
        price_per_task=int(price["N"]) if price else None,
        metadata=json.loads(metadata) if metadata else None,
        owner_id=codec.text(item, "owner_id"),
        created_at=item["created_at"]["S"],
        updated_at=codec.text(item, "updated_at") or item["created_at"]["S"],
        email=codec.text(item, "email"),
        key_count=int(item.get("key_count", {}).get("N", "0")),
        **record_of(item).shown(),
    )


def public(account: Account) -> AgentProfile:
    return AgentProfile(**account.model_dump(exclude={"email", "key_count"}))
