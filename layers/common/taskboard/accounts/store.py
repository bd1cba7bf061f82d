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
record as a worker (taskboard.reputation.record) and its credits (taskboard.money.purse) are counters on its
ACCOUNT item, written by the task transactions that move them. Who owns an agent is written once, with the
account, and never changes (a profile change cannot touch `owner_id`): the rule that one owner's accounts
cannot work for each other (taskboard.accounts.parties.answerable) relies on it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from taskboard.accounts.items import (
    DIRECTORY,
    STATUS_RANK,
    NewAccount,
    account_from,
    account_item,
    capability_item,
    dir_sk,
    grant_item,
    key_items,
)
from taskboard.accounts.keys import Caller, NewKey
from taskboard.accounts.models import (
    Account,
    ApiKeyInfo,
    RegistrationTokenRequest,
)
from taskboard.core import codec, keys, limits, tolerant
from taskboard.core.aws import TableAccess
from taskboard.core.clock import to_iso
from taskboard.core.errors import (
    AgentIdTaken,
    KeyNotFound,
    LastKey,
    TooManyKeys,
)
from taskboard.reputation.record import Record, record_of


class Raced(Exception):
    """A profile changed between our read and our write."""


class ExtraConditionFailed(Exception):
    """A condition of an action added to an account's creation failed (a registration token's, or the owner's
    grant count); `failed` holds the positions of those actions."""

    def __init__(self, failed: set[int]) -> None:
        super().__init__(failed)
        self.failed = failed


class StoredAccount(NamedTuple):
    """An account as read: what the API shows of it, its worker record, and the version a change of it is
    conditioned on."""

    account: Account
    record: Record
    version: int


def stored_account(item: dict[str, Any]) -> StoredAccount:
    return StoredAccount(account_from(item), record_of(item), int(item.get("version", {}).get("N", "0")))


def _listable(item: dict[str, Any]) -> StoredAccount:
    """stored_account, checked to render as a listing would show it (raises if it cannot)."""
    stored = stored_account(item)
    tolerant.renders(stored.account)
    return stored


class IssuedToken(NamedTuple):
    """A registration token as read (never the token: its hash is the item's key)."""

    owner_id: str
    agent_id: str
    expires_at: str
    used: bool


# A profile change: attribute -> its new value (None removes it), as the API model holds it.
ProfileChanges = dict[str, Any]


def _profile_value(name: str, value: Any) -> dict[str, Any]:
    if name == "metadata":
        return codec.attr(json.dumps(value, separators=(",", ":")))
    return codec.attr(list(value) if name == "capabilities" else value)


class AccountRepository(TableAccess):
    """The items above, read and written with the conditions that keep them consistent."""

    def create(self, account: NewAccount, made: NewKey, also: list[dict[str, Any]] | None = None) -> None:
        """The account with its first key and its capability entries, in one transaction. Raises AgentIdTaken
        when the id exists (or, through `also`, whatever the extra actions' conditions say)."""
        puts = [account_item(account)]
        puts += [capability_item(account.id, cap, account.status) for cap in account.capabilities]
        puts += key_items(account.id, account.kind, account.owner_id, made, account.created_at)
        if account.grant:
            puts.append(grant_item(account))
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
                raise ExtraConditionFailed(failed) from None
            if "ConditionalCheckFailed" in reasons:
                raise AgentIdTaken("This agent_id is taken; choose another.") from None
            raise

    def get(self, account_id: str) -> StoredAccount | None:
        response = self.db.get_item(TableName=self.table, Key=keys.account(account_id), ConsistentRead=True)
        item = response.get("Item")
        return stored_account(item) if item is not None else None

    def get_many(self, account_ids: list[str]) -> dict[str, StoredAccount]:
        """Accounts by id (BatchGetItem), in at most a few calls for <= 100 ids. Missing ones are left out, and
        so is one that cannot be read (logged and counted: taskboard.core.tolerant), so one bad item never
        breaks a listing."""
        lookups = [keys.account(account_id) for account_id in dict.fromkeys(account_ids)]
        found: dict[str, StoredAccount] = {}
        for item in self.batch_get(lookups):
            key = item["pk"]["S"]
            read = tolerant.read(_listable, item, key=key, kind="agent")
            if read is not None:
                found[keys.account_id_of(key)] = read
        return found

    def update_profile(self, current: StoredAccount, changes: ProfileChanges, now: str) -> StoredAccount:
        """Apply `changes` (attribute -> value, None removes it) on the version `current` was read at, with the
        capability entries following the new capabilities and status. Raises Raced if the version moved."""
        old = current.account
        account_id, version = old.id, current.version
        sets, removes = ["updated_at = :now", "version = :next"], []
        values: dict[str, Any] = codec.values(now=now, next=version + 1)
        names: dict[str, str] = {}
        for index, (name, value) in enumerate(changes.items()):
            names[f"#f{index}"] = name
            if value is None:
                removes.append(f"#f{index}")
            else:
                sets.append(f"#f{index} = :v{index}")
                values[f":v{index}"] = _profile_value(name, value)
        status = changes.get("status") or old.status
        new_caps = list(changes["capabilities"]) if changes.get("capabilities") is not None else old.capabilities
        if old.kind == "agent":
            sets.append("dir_sk = :dir")
            values |= codec.values(dir=dir_sk(status, account_id))
        if version:
            condition = "version = :version"
            values |= codec.values(version=version)
        else:
            condition = "attribute_exists(pk) AND attribute_not_exists(version)"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": keys.account(account_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        actions: list[dict[str, Any]] = [{"Update": update}]
        if old.kind == "agent":
            actions += [
                {"Put": {"TableName": self.table, "Item": capability_item(account_id, cap, status)}} for cap in new_caps
            ]
            actions += [
                {"Delete": {"TableName": self.table, "Key": keys.in_account(account_id, f"CAP#{cap}")}}
                for cap in old.capabilities
                if cap not in new_caps
            ]
        try:
            self.db.transact_write_items(TransactItems=actions)
        except self.db.exceptions.TransactionCanceledException:
            raise Raced from None
        return self.get(account_id) or current

    def directory(
        self, partition: str, status: str | None, limit: int, after: str | None
    ) -> tuple[list[str], str | None]:
        """Agent ids in one Directory partition (AGENTS or CAP#<capability>): online, busy, offline; by id."""
        condition = "dir_pk = :pk"
        values: dict[str, Any] = codec.values(pk=partition)
        if status:
            condition += " AND begins_with(dir_sk, :status)"
            values |= codec.values(status=f"{STATUS_RANK[status]}{status}#")
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
                **keys.in_account(account_id, sort_key),
                **codec.item(dir_pk=partition, dir_sk=after),
            }
        response = self.db.query(**kwargs)
        ids = [keys.account_id_of(item["pk"]["S"]) for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        return ids, (last["dir_sk"]["S"] if last and ids else None)

    # ---- credits ----

    # ---- keys ----

    def add_key(self, caller: Caller, made: NewKey, now: str) -> None:
        count = {
            "Update": {
                "TableName": self.table,
                "Key": keys.account(caller.account_id),
                "UpdateExpression": "SET key_count = if_not_exists(key_count, :zero) + :one",
                "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(key_count) OR key_count < :max)",
                "ExpressionAttributeValues": {
                    **codec.values(zero=0, one=1, max=limits.KEYS_PER_ACCOUNT),
                },
            }
        }
        puts = [
            {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            for item in key_items(caller.account_id, caller.role, caller.owner_id, made, now)
        ]
        try:
            self.db.transact_write_items(TransactItems=[count, *puts])
        except self.db.exceptions.TransactionCanceledException:
            raise TooManyKeys(f"An account holds at most {limits.KEYS_PER_ACCOUNT} keys; revoke one first.") from None

    def keys(self, account_id: str) -> list[ApiKeyInfo]:
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :key)",
            ExpressionAttributeValues=codec.values(pk=keys.account_pk(account_id), key="KEY#"),
            ConsistentRead=True,
        )
        references = response["Items"]  # at most KEYS_PER_ACCOUNT: one page
        if not references:
            return []
        wanted = [keys.api_key(ref["key_hash"]["S"]) for ref in references]
        used = {
            item["key_id"]["S"]: codec.text(item, "last_used_at")
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
        reference_key = keys.in_account(account_id, f"KEY#{key_id}")
        reference = self.db.get_item(TableName=self.table, Key=reference_key, ConsistentRead=True).get("Item")
        if reference is None:
            raise KeyNotFound(f"You have no key with id {key_id!r}.")
        actions = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": keys.account(account_id),
                    "UpdateExpression": "SET key_count = key_count - :one",
                    "ConditionExpression": "key_count > :one",
                    "ExpressionAttributeValues": codec.values(one=1),
                }
            },
            {"Delete": {"TableName": self.table, "Key": reference_key, "ConditionExpression": "attribute_exists(pk)"}},
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": keys.api_key(reference["key_hash"]["S"]),
                    "ConditionExpression": "account_id = :account",
                    "ExpressionAttributeValues": codec.values(account=account_id),
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
        item = {
            **keys.registration_token(digest),
            **codec.item(
                owner_id=owner_id,
                agent_id=request.agent_id,
                expires_at=to_iso(expires),
                expires_ttl=int(expires.timestamp()) + 86_400,  # kept a day past expiry, then deleted
                agent_name=request.agent_name or None,
                capabilities=request.capabilities,
            ),
        }
        self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def token(self, digest: str) -> IssuedToken | None:
        key = keys.registration_token(digest)
        item = self.db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return IssuedToken(
            owner_id=item["owner_id"]["S"],
            agent_id=item["agent_id"]["S"],
            expires_at=item["expires_at"]["S"],
            used="used_at" in item,
        )

    def count_grant_action(self, owner_id: str, most: int) -> dict[str, Any]:
        """The transaction step that counts one more granted agent on its owner's account, only while the owner
        has had fewer than `most`: in the new agent's own transaction, so racing connects never pass the cap."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": keys.account(owner_id),
                "UpdateExpression": "SET granted_agents = if_not_exists(granted_agents, :zero) + :one",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(granted_agents) OR granted_agents < :most)",
                "ExpressionAttributeValues": codec.values(zero=0, one=1, most=most),
            }
        }

    def use_token_action(self, digest: str, agent_id: str, now: str) -> dict[str, Any]:
        """The transaction step that spends a token: only an unused, unexpired one issued for this agent_id."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": keys.registration_token(digest),
                "UpdateExpression": "SET used_at = :now",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(used_at) "
                "AND expires_at > :now AND agent_id = :agent",
                "ExpressionAttributeValues": codec.values(now=now, agent=agent_id),
            }
        }
