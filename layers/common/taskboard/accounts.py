"""Accounts (agents and their human owners), their keys, registration tokens and the agent directory.

Items, all in the board's table:
  pk ACCOUNT#<id>      sk ACCOUNT           the account: profile, `kind`, `key_count`, `version` (and the
                                            subscriptions' `webhook_count`; an owner's `granted_agents`); an
                                            agent's is in the Directory index
  pk ACCOUNT#<id>      sk CAP#<capability>  one per capability of an agent: the Directory's capability lists
  pk ACCOUNT#<id>      sk KEY#<key id>      the account's view of one key (to list and revoke it)
  pk KEY#<sha256>      sk KEY               a key, found by its hash: who it belongs to (what the authorizer reads)
  pk REGTOKEN#<sha256> sk REGTOKEN          a registration token an owner issued: single use, expires (TTL)
The Directory index (dir_pk, dir_sk) is sparse: dir_pk is AGENTS or CAP#<capability> (or OWNERS, for
`make audit`), dir_sk <rank><status>#<id>, so GET /agents (by status, by capability) is a Query, never a Scan.
Every change to these items is one transaction with conditions: an agent_id is taken once, a token is used once,
an account keeps at least one and at most KEYS_PER_ACCOUNT keys, an owner's agents get at most
`granted_agents_per_owner` sign-up grants, and a profile is changed on the version it was read at. An agent's
record as a worker (taskboard.reputation) and its credits (taskboard.money) are counters on its ACCOUNT item,
written by the task transactions that move them. Who owns an agent is written once, with the account, and never
changes (a profile change cannot touch `owner_id`): the rule that one owner's accounts cannot work for each
other (taskboard.lifecycle.answerable) relies on it.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from taskboard import limits, tolerant
from taskboard.auth import Caller, NewKey, hash_key, new_key
from taskboard.aws import TableAccess
from taskboard.clock import to_iso, utc_now
from taskboard.errors import (
    AccountNotFound,
    AgentIdTaken,
    Conflict,
    InvalidRegistrationToken,
    KeyNotFound,
    LastKey,
    OwnersOnly,
    RegistrationClosed,
    TooManyKeys,
)
from taskboard.models import (
    Account,
    AgentList,
    AgentProfile,
    ApiKeyInfo,
    ApiKeyList,
    ConnectRequest,
    CreateKeyRequest,
    Ledger,
    LedgerEntry,
    NewApiKey,
    RegisterAgentRequest,
    Registered,
    RegisterOwnerRequest,
    RegistrationToken,
    RegistrationTokenRequest,
    Review,
    ReviewList,
    UpdateProfileRequest,
    Wallet,
)
from taskboard.pagination import decode_cursor, encode_cursor
from taskboard.repository import review_from_item
from taskboard.reputation import record_of

TOKEN_PREFIX = "atr_"  # noqa: S105 - a prefix, not a secret
DIRECTORY = "Directory"
OWNERS = "OWNERS"  # the Directory partition of owner accounts (read by scripts/audit.py, never by the API)
_PROFILE_TEXT = ("name", "description", "status", "webhook_url", "endpoint_url", "owner_id", "email")
# GET /agents?min_rating= reads at most this many directory pages to fill one page of agents.
_DIRECTORY_READS = 5
# Retries of a profile change that lost a race with another change of the same profile.
_UPDATE_TRIES = 3
# How many of an owner's agents get the sign-up grant (Settings.granted_agents_per_owner, GrantedAgentsPerOwner).
GRANTED_AGENTS_PER_OWNER = 5


def _account_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}


# The directory lists online agents first, then busy, then offline; by id within each.
_STATUS_RANK = {"online": "0", "busy": "1", "offline": "2"}


def _dir_sk(status: str, account_id: str) -> str:
    return f"{_STATUS_RANK[status]}{status}#{account_id}"


_LEDGER_KEY = re.compile(r"^LEDGER#\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#led_[0-9a-f]{32}$")
_REVIEW_KEY = re.compile(
    r"^REVIEW#\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_DIRECTORY_KEY = re.compile(r"^(0online|1busy|2offline)#[a-z0-9][a-z0-9_-]{2,63}$")


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


def _account_item(account: NewAccount) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_account_key(account.id),
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
    for name in _PROFILE_TEXT:
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
    item["dir_sk"] = {"S": _dir_sk(account.status, account.id)}
    return item


def _capability_item(account_id: str, capability: str, status: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"ACCOUNT#{account_id}"},
        "sk": {"S": f"CAP#{capability}"},
        "dir_pk": {"S": f"CAP#{capability}"},
        "dir_sk": {"S": _dir_sk(status, account_id)},
    }


def _grant_item(account: NewAccount) -> dict[str, Any]:
    """The ledger entry of a new account's sign-up grant (written in the account's own transaction)."""
    entry_id = "led_" + uuid.uuid4().hex
    return {
        "pk": {"S": f"ACCOUNT#{account.id}"},
        "sk": {"S": f"LEDGER#{account.created_at}#{entry_id}"},
        "id": {"S": entry_id},
        "type": {"S": "grant"},
        "amount": {"N": str(account.grant)},
        "balance_after": {"N": str(account.grant)},
        "created_at": {"S": account.created_at},
    }


def _key_items(account_id: str, kind: str, owner_id: str | None, made: NewKey, now: str) -> list[dict[str, Any]]:
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
        "pk": {"S": f"ACCOUNT#{account_id}"},
        "sk": {"S": f"KEY#{made.key_id}"},
        "key_hash": {"S": digest},
        "prefix": {"S": made.key[:8]},
        "created_at": {"S": now},
    }
    return [by_hash, reference]


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value else None


def _account_from(item: dict[str, Any]) -> Account:
    metadata = _text(item, "metadata")
    price = item.get("price_per_task")
    return Account(
        id=item["id"]["S"] if "id" in item else item["pk"]["S"].removeprefix("ACCOUNT#"),
        kind=_text(item, "kind") or "agent",  # type: ignore[arg-type]
        name=_text(item, "name"),
        description=_text(item, "description") or "",
        capabilities=[cap["S"] for cap in item.get("capabilities", {}).get("L", [])],
        status=_text(item, "status") or "online",  # type: ignore[arg-type]
        webhook_url=_text(item, "webhook_url"),
        endpoint_url=_text(item, "endpoint_url"),
        price_per_task=int(price["N"]) if price else None,
        metadata=json.loads(metadata) if metadata else None,
        owner_id=_text(item, "owner_id"),
        created_at=item["created_at"]["S"],
        updated_at=_text(item, "updated_at") or item["created_at"]["S"],
        email=_text(item, "email"),
        key_count=int(item.get("key_count", {}).get("N", "0")),
        **record_of(item).shown(),
    )


def public(account: Account) -> AgentProfile:
    return AgentProfile(**account.model_dump(exclude={"email", "key_count"}))


def _public_from(item: dict[str, Any]) -> AgentProfile:
    return public(_account_from(item))


class AccountRepository(TableAccess):
    """The items above, read and written with the conditions that keep them consistent."""

    def create(self, account: NewAccount, made: NewKey, also: list[dict[str, Any]] | None = None) -> None:
        """The account with its first key and its capability entries, in one transaction. Raises AgentIdTaken
        when the id exists (or, through `also`, whatever the extra actions' conditions say)."""
        puts = [_account_item(account)]
        puts += [_capability_item(account.id, cap, account.status) for cap in account.capabilities]
        puts += _key_items(account.id, account.kind, account.owner_id, made, account.created_at)
        if account.grant:
            puts.append(_grant_item(account))
        actions = [
            {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            for item in puts
        ]
        self._write([*(also or []), *actions], offset=len(also or []))

    def _write(self, actions: list[dict[str, Any]], offset: int = 0) -> None:
        try:
            self.db.transact_write_items(TransactItems=actions)
        except self.db.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            failed = {index for index, code in enumerate(reasons[:offset]) if code == "ConditionalCheckFailed"}
            if failed:
                raise _ExtraConditionFailed(failed) from None
            if "ConditionalCheckFailed" in reasons:
                raise AgentIdTaken("This agent_id is taken; choose another.") from None
            raise

    def get(self, account_id: str) -> dict[str, Any] | None:
        response = self.db.get_item(TableName=self.table, Key=_account_key(account_id), ConsistentRead=True)
        return response.get("Item")  # type: ignore[no-any-return]

    def get_many(self, account_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Accounts by id (BatchGetItem; missing ones are left out), in at most a few calls for <= 100 ids."""
        keys = [_account_key(account_id) for account_id in dict.fromkeys(account_ids)]
        return {item["pk"]["S"].removeprefix("ACCOUNT#"): item for item in self.batch_get(keys)}

    def update_profile(self, current: dict[str, Any], changes: dict[str, Any], now: str) -> dict[str, Any]:
        """Apply `changes` (attribute -> value, None removes it) on the version `current` was read at, with the
        capability entries following the new capabilities and status. Raises _Raced if the version moved."""
        account_id = current["pk"]["S"].removeprefix("ACCOUNT#")
        version = int(current.get("version", {}).get("N", "0"))
        sets, removes = ["updated_at = :now", "version = :next"], []
        values: dict[str, Any] = {":now": {"S": now}, ":next": {"N": str(version + 1)}}
        names: dict[str, str] = {}
        for index, (name, value) in enumerate(changes.items()):
            names[f"#f{index}"] = name
            if value is None:
                removes.append(f"#f{index}")
            else:
                sets.append(f"#f{index} = :v{index}")
                values[f":v{index}"] = value
        old = _account_from(current)
        status = changes["status"]["S"] if "status" in changes else old.status
        capabilities = [cap["S"] for cap in changes["capabilities"]["L"]] if "capabilities" in changes else None
        new_caps = capabilities if capabilities is not None else old.capabilities
        if old.kind == "agent":
            sets.append("dir_sk = :dir")
            values[":dir"] = {"S": _dir_sk(status, account_id)}
        if version:
            condition = "version = :version"
            values[":version"] = {"N": str(version)}
        else:
            condition = "attribute_exists(pk) AND attribute_not_exists(version)"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": _account_key(account_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        actions: list[dict[str, Any]] = [{"Update": update}]
        if old.kind == "agent":
            actions += [
                {"Put": {"TableName": self.table, "Item": _capability_item(account_id, cap, status)}}
                for cap in new_caps
            ]
            actions += [
                {"Delete": {"TableName": self.table, "Key": {"pk": current["pk"], "sk": {"S": f"CAP#{cap}"}}}}
                for cap in old.capabilities
                if cap not in new_caps
            ]
        try:
            self.db.transact_write_items(TransactItems=actions)
        except self.db.exceptions.TransactionCanceledException:
            raise _Raced from None
        return self.get(account_id) or current

    def directory(
        self, partition: str, status: str | None, limit: int, after: str | None
    ) -> tuple[list[str], str | None]:
        """Agent ids in one Directory partition (AGENTS or CAP#<capability>): online, busy, offline; by id."""
        condition = "dir_pk = :pk"
        values: dict[str, Any] = {":pk": {"S": partition}}
        if status:
            condition += " AND begins_with(dir_sk, :status)"
            values[":status"] = {"S": f"{_STATUS_RANK[status]}{status}#"}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": DIRECTORY,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "Limit": limit,
        }
        if after:
            account_id = after.split("#", 1)[1]
            sort_key = "ACCOUNT" if partition == "AGENTS" else partition
            kwargs["ExclusiveStartKey"] = {
                "dir_pk": {"S": partition},
                "dir_sk": {"S": after},
                "pk": {"S": f"ACCOUNT#{account_id}"},
                "sk": {"S": sort_key},
            }
        response = self.db.query(**kwargs)
        ids = [item["pk"]["S"].removeprefix("ACCOUNT#") for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return ids, (last["dir_sk"]["S"] if last and ids else None)

    # ---- credits ----

    def ledger(self, account_id: str, limit: int, before: str | None) -> tuple[list[LedgerEntry], str | None]:
        """An account's ledger entries, newest first, older than the sort key `before`."""
        condition = "pk = :pk AND sk BETWEEN :low AND :high"
        values = {
            ":pk": {"S": f"ACCOUNT#{account_id}"},
            ":low": {"S": "LEDGER#"},
            ":high": {"S": before if before else "LEDGER#~"},
        }
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            # one more than a page, to know whether there is a next one; and `before` itself (BETWEEN includes it)
            Limit=limit + 1 + (1 if before else 0),
            ConsistentRead=True,
        )
        found = [item for item in response["Items"] if item["sk"]["S"] != before]
        items, more = found[:limit], len(found) > limit
        entries = [
            LedgerEntry(
                id=item["id"]["S"],
                type=item["type"]["S"],  # type: ignore[arg-type]
                amount=int(item["amount"]["N"]),
                task_id=_text(item, "task_id"),
                balance_after=int(item["balance_after"]["N"]),
                created_at=item["created_at"]["S"],
            )
            for item in items
        ]
        return entries, (items[-1]["sk"]["S"] if more and items else None)

    def reviews(self, worker_id: str, limit: int, before: str | None) -> tuple[list[Review], str | None]:
        """The reviews a worker received (copies in its partition), newest first, older than the key `before`."""
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": f"ACCOUNT#{worker_id}"},
                ":low": {"S": "REVIEW#"},
                ":high": {"S": before if before else "REVIEW#~"},
            },
            ScanIndexForward=False,
            Limit=limit + 1 + (1 if before else 0),  # as for the ledger: the next page's first, and `before`
        )
        found = [item for item in response["Items"] if item["sk"]["S"] != before]
        items, more = found[:limit], len(found) > limit
        reviews = [Review(task_id=item["task_id"]["S"], **vars(review_from_item(item))) for item in items]
        return reviews, (items[-1]["sk"]["S"] if more and items else None)

    # ---- keys ----

    def add_key(self, caller: Caller, made: NewKey, now: str) -> None:
        count = {
            "Update": {
                "TableName": self.table,
                "Key": _account_key(caller.account_id),
                "UpdateExpression": "SET key_count = if_not_exists(key_count, :zero) + :one",
                "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(key_count) OR key_count < :max)",
                "ExpressionAttributeValues": {
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":max": {"N": str(limits.KEYS_PER_ACCOUNT)},
                },
            }
        }
        puts = [
            {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            for item in _key_items(caller.account_id, caller.role, caller.owner_id, made, now)
        ]
        try:
            self.db.transact_write_items(TransactItems=[count, *puts])
        except self.db.exceptions.TransactionCanceledException:
            raise TooManyKeys(f"An account holds at most {limits.KEYS_PER_ACCOUNT} keys; revoke one first.") from None

    def keys(self, account_id: str) -> list[ApiKeyInfo]:
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :key)",
            ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account_id}"}, ":key": {"S": "KEY#"}},
            ConsistentRead=True,
        )
        references = response["Items"]  # at most KEYS_PER_ACCOUNT: one page
        if not references:
            return []
        wanted = [{"pk": {"S": f"KEY#{ref['key_hash']['S']}"}, "sk": {"S": "KEY"}} for ref in references]
        used = {
            item["key_id"]["S"]: _text(item, "last_used_at")
            for item in self.batch_get(wanted, ProjectionExpression="key_id, last_used_at")
        }
        return [
            ApiKeyInfo(
                key_id=ref["sk"]["S"].removeprefix("KEY#"),
                prefix=ref["prefix"]["S"],
                created_at=ref["created_at"]["S"],
                last_used_at=used.get(ref["sk"]["S"].removeprefix("KEY#")),
            )
            for ref in sorted(references, key=lambda ref: ref["created_at"]["S"])
        ]

    def revoke_key(self, account_id: str, key_id: str) -> None:
        reference_key = {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": f"KEY#{key_id}"}}
        reference = self.db.get_item(TableName=self.table, Key=reference_key, ConsistentRead=True).get("Item")
        if reference is None:
            raise KeyNotFound(f"You have no key with id {key_id!r}.")
        actions = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _account_key(account_id),
                    "UpdateExpression": "SET key_count = key_count - :one",
                    "ConditionExpression": "key_count > :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": self.table, "Key": reference_key, "ConditionExpression": "attribute_exists(pk)"}},
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": {"pk": {"S": f"KEY#{reference['key_hash']['S']}"}, "sk": {"S": "KEY"}},
                    "ConditionExpression": "account_id = :account",
                    "ExpressionAttributeValues": {":account": {"S": account_id}},
                }
            },
        ]
        try:
            self.db.transact_write_items(TransactItems=actions)
        except self.db.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise LastKey("This is the account's last key; make another before revoking it.") from None
            raise KeyNotFound(f"You have no key with id {key_id!r}.") from None

    # ---- registration tokens ----

    def add_token(self, digest: str, owner_id: str, request: RegistrationTokenRequest, expires: datetime) -> None:
        item: dict[str, Any] = {
            "pk": {"S": f"REGTOKEN#{digest}"},
            "sk": {"S": "REGTOKEN"},
            "owner_id": {"S": owner_id},
            "agent_id": {"S": request.agent_id},
            "expires_at": {"S": to_iso(expires)},
            "expires_ttl": {"N": str(int(expires.timestamp()) + 86_400)},  # kept a day past expiry, then deleted
        }
        if request.agent_name:
            item["agent_name"] = {"S": request.agent_name}
        if request.capabilities is not None:
            item["capabilities"] = {"L": [{"S": cap} for cap in request.capabilities]}
        self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def token(self, digest: str) -> dict[str, Any] | None:
        key = {"pk": {"S": f"REGTOKEN#{digest}"}, "sk": {"S": "REGTOKEN"}}
        return self.db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")  # type: ignore[no-any-return]

    def count_grant_action(self, owner_id: str, most: int) -> dict[str, Any]:
        """The transaction step that counts one more granted agent on its owner's account, only while the owner
        has had fewer than `most`: in the new agent's own transaction, so racing connects never pass the cap."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": _account_key(owner_id),
                "UpdateExpression": "SET granted_agents = if_not_exists(granted_agents, :zero) + :one",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(granted_agents) OR granted_agents < :most)",
                "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":most": {"N": str(most)}},
            }
        }

    def use_token_action(self, digest: str, agent_id: str, now: str) -> dict[str, Any]:
        """The transaction step that spends a token: only an unused, unexpired one issued for this agent_id."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": {"S": f"REGTOKEN#{digest}"}, "sk": {"S": "REGTOKEN"}},
                "UpdateExpression": "SET used_at = :now",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(used_at) "
                "AND expires_at > :now AND agent_id = :agent",
                "ExpressionAttributeValues": {":now": {"S": now}, ":agent": {"S": agent_id}},
            }
        }


class _Raced(Exception):
    """A profile changed between our read and our write."""


class _ExtraConditionFailed(Exception):
    """A condition of an action added to an account's creation failed (a registration token's, or the owner's
    grant count); `failed` holds the positions of those actions."""

    def __init__(self, failed: set[int]) -> None:
        super().__init__(failed)
        self.failed = failed


class Accounts:
    """The account use cases behind POST /keys, /agents/..., /owners/register."""

    def __init__(
        self,
        repository: AccountRepository,
        *,
        open_registration: bool = True,
        signup_grant: int = 0,
        granted_agents_per_owner: int = GRANTED_AGENTS_PER_OWNER,
        check_url: Callable[[str], Any] = lambda url: None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.repository = repository
        self.open_registration = open_registration
        self.signup_grant = signup_grant
        self.granted_agents_per_owner = granted_agents_per_owner
        self.check_url = check_url
        self.clock = clock

    # ---- creating accounts ----

    def quick_key(self, request: CreateKeyRequest) -> Registered:
        """POST /keys: an agent account with a minimal profile, and its key."""
        self._require_open_registration()
        return self._create(
            NewAccount(
                id=str(uuid.uuid4()),
                kind="agent",
                name=request.name,
                email=request.email,
                created_at=self._now(),
                grant=self.signup_grant,
            )
        )

    def register_agent(self, request: RegisterAgentRequest) -> Registered:
        self._require_open_registration()
        self._check_urls(request.webhook_url, request.endpoint_url)
        return self._create(
            NewAccount(
                id=str(uuid.uuid4()),
                kind="agent",
                name=request.name,
                description=request.description or "",
                capabilities=tuple(request.capabilities),
                webhook_url=request.webhook_url,
                endpoint_url=request.endpoint_url,
                price_per_task=request.price_per_task,
                metadata=request.metadata,
                email=request.owner_email,
                created_at=self._now(),
                grant=self.signup_grant,
            )
        )

    def register_owner(self, request: RegisterOwnerRequest) -> Registered:
        """Owners are how agents join when open self-registration is off, so this is always open."""
        return self._create(
            NewAccount(
                id=str(uuid.uuid4()), kind="owner", name=request.name, email=request.email, created_at=self._now()
            )
        )

    def issue_token(self, caller: Caller, request: RegistrationTokenRequest) -> RegistrationToken:
        if caller.role != "owner":
            raise OwnersOnly("Only an owner account (POST /owners/register) can issue registration tokens.")
        if self.repository.get(request.agent_id) is not None:
            raise AgentIdTaken(f"agent_id {request.agent_id!r} is taken; choose another.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = self.clock() + timedelta(seconds=request.expires_in_seconds)
        self.repository.add_token(hash_key(token), caller.account_id, request, expires)
        return RegistrationToken(registration_token=token, agent_id=request.agent_id, expires_at=to_iso(expires))

    def connect(self, request: ConnectRequest) -> Registered:
        """POST /agents/connect: spend a registration token on the agent it was issued for.

        The agent gets the sign-up grant only while its owner has connected fewer than granted_agents_per_owner
        agents with one: the owner's `granted_agents` counter is raised in the agent's own transaction, on
        that condition. Past the cap the agent is made all the same, with no grant (an owner may run a fleet;
        the grant is a start for a new party, not a payment per agent)."""
        token = request.registration_token
        if not token.startswith(TOKEN_PREFIX):
            raise InvalidRegistrationToken("This registration token is not valid.")
        self._check_urls(request.endpoint)
        digest, now = hash_key(token), self._now()
        issued = self.repository.token(digest)
        if issued is None:
            raise InvalidRegistrationToken("This registration token is not valid.")
        self._check_token(issued, request.agent_id, now)
        account = NewAccount(
            id=request.agent_id,
            kind="agent",
            name=request.agent_name,
            capabilities=tuple(request.capabilities),
            endpoint_url=request.endpoint,
            metadata=request.metadata,
            owner_id=issued["owner_id"]["S"],
            created_at=now,
        )
        use_token = self.repository.use_token_action(digest, request.agent_id, now)
        try:
            if self.signup_grant and self.granted_agents_per_owner:
                count = self.repository.count_grant_action(account.owner_id or "", self.granted_agents_per_owner)
                try:
                    return self._create(replace(account, grant=self.signup_grant), also=[use_token, count])
                except _ExtraConditionFailed as refused:
                    if 0 in refused.failed:  # the token's condition: raise it below
                        raise
                    # the owner's agents have had all their grants: this one starts with none
            return self._create(account, also=[use_token])
        except _ExtraConditionFailed:
            # raced with another use of the same token: say why, from what it looks like now
            self._check_token(self.repository.token(digest) or {}, request.agent_id, now)
            raise InvalidRegistrationToken("This registration token is not valid.") from None

    @staticmethod
    def _check_token(issued: dict[str, Any], agent_id: str, now: str) -> None:
        if not issued:
            raise InvalidRegistrationToken("This registration token is not valid.")
        if "used_at" in issued:
            raise InvalidRegistrationToken("This registration token was already used; ask its owner for another.")
        if issued["expires_at"]["S"] <= now:
            raise InvalidRegistrationToken("This registration token has expired; ask its owner for another.")
        if issued["agent_id"]["S"] != agent_id:
            raise InvalidRegistrationToken("This registration token was issued for another agent_id.")

    def _create(self, account: NewAccount, also: list[dict[str, Any]] | None = None) -> Registered:
        made = new_key()
        self.repository.create(account, made, also)
        return Registered(account=_account_from(_account_item(account)), key=made.key, key_id=made.key_id)

    def _require_open_registration(self) -> None:
        if not self.open_registration:
            raise RegistrationClosed(
                "Open registration is off on this board: ask an owner for a registration token "
                "(POST /agents/register-token) and use POST /agents/connect."
            )

    def _check_urls(self, *urls: str | None) -> None:
        for url in urls:
            if url is not None:
                self.check_url(url)

    def _now(self) -> str:
        return to_iso(self.clock())

    # ---- profiles ----

    def me(self, caller: Caller) -> Account:
        item = self.repository.get(caller.account_id)
        if item is None:
            raise AccountNotFound("Your account no longer exists.")
        return _account_from(item)

    def owner_of(self, agent_id: str) -> str | None:
        item = self.repository.get(agent_id) if agent_id else None
        return _text(item, "owner_id") if item else None

    def agent(self, agent_id: str) -> AgentProfile:
        item = self.repository.get(agent_id.lower()) if len(agent_id) <= 64 else None
        if item is None or _text(item, "kind") != "agent":
            raise AccountNotFound(f"No agent with id {agent_id!r}.")
        return public(_account_from(item))

    def update(self, caller: Caller, request: UpdateProfileRequest) -> Account:
        self._check_urls(request.webhook_url, request.endpoint_url)
        changes: dict[str, Any] = {}
        for name in request.model_fields_set:
            value = getattr(request, name)
            if value is None:
                changes[name] = None
            elif name == "capabilities":
                changes[name] = {"L": [{"S": cap} for cap in value]}
            elif name == "price_per_task":
                changes[name] = {"N": str(value)}
            elif name == "metadata":
                changes[name] = {"S": json.dumps(value, separators=(",", ":"))}
            else:
                changes[name] = {"S": value}
        for _ in range(_UPDATE_TRIES):
            current = self.repository.get(caller.account_id)
            if current is None:
                raise AccountNotFound("Your account no longer exists.")
            try:
                return _account_from(self.repository.update_profile(current, changes, self._now()))
            except _Raced:
                continue
        raise Conflict("Your profile is being changed by another request; try again.")

    def list(
        self,
        capability: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
        min_rating: float | None = None,
    ) -> AgentList:
        """A page of the directory. With `min_rating`, agents below it are skipped after they are read: the
        directory reads on (at most _DIRECTORY_READS Queries) to fill the page, so a page may hold fewer."""
        after = decode_cursor(cursor, _DIRECTORY_KEY)
        partition = f"CAP#{capability}" if capability else "AGENTS"
        agents: list[AgentProfile] = []
        for _ in range(_DIRECTORY_READS if min_rating is not None else 1):
            ids, after = self.repository.directory(partition, status, limit - len(agents), after)
            found = self.repository.get_many(ids) if ids else {}
            for agent_id in ids:
                if agent_id in found and record_of(found[agent_id]).meets(min_rating):
                    profile = tolerant.read(_public_from, found[agent_id], key=f"ACCOUNT#{agent_id}", kind="agent")
                    if profile is not None:  # else skipped (logged, counted in UnreadableItems)
                        agents.append(profile)
            if after is None or len(agents) >= limit:
                break
        return AgentList(agents=agents, next_cursor=encode_cursor(after) if after else None)

    # ---- credits ----

    def reviews(self, agent_id: str, limit: int, cursor: str | None) -> ReviewList:
        before = decode_cursor(cursor, _REVIEW_KEY)
        self.agent(agent_id)  # 404 for an id that is not an agent's
        reviews, last = self.repository.reviews(agent_id.lower(), limit, before)
        return ReviewList(reviews=reviews, next_cursor=encode_cursor(last) if last else None)

    def wallet(self, caller: Caller) -> Wallet:
        item = self.repository.get(caller.account_id) or {}
        return Wallet(
            account_id=caller.account_id,
            balance=int(item.get("balance", {}).get("N", "0")),
            escrowed=int(item.get("escrowed", {}).get("N", "0")),
        )

    def ledger(self, caller: Caller, limit: int, cursor: str | None) -> Ledger:
        before = decode_cursor(cursor, _LEDGER_KEY)
        entries, last = self.repository.ledger(caller.account_id, limit, before)
        return Ledger(entries=entries, next_cursor=encode_cursor(last) if last else None)

    # ---- keys ----

    def add_key(self, caller: Caller) -> NewApiKey:
        made, now = new_key(), self._now()
        self.repository.add_key(caller, made, now)
        return NewApiKey(key=made.key, key_id=made.key_id, prefix=made.key[:8], created_at=now, last_used_at=None)

    def keys(self, caller: Caller) -> ApiKeyList:
        return ApiKeyList(keys=self.repository.keys(caller.account_id))

    def revoke(self, caller: Caller, key_id: str) -> None:
        if not key_id.startswith("key_") or len(key_id) > 40:
            raise KeyNotFound(f"You have no key with id {key_id!r}.")
        self.repository.revoke_key(caller.account_id, key_id)
