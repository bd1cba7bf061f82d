"""Webhook subscriptions and their delivery log in the board's table. Every write about webhooks is here.

Items (the owner's partition holds its subscriptions, so "mine" is a key, not a filter):
  pk ACCOUNT#<owner>   sk WEBHOOK#wh_<hex>      an account subscription (at most WEBHOOKS_PER_ACCOUNT)
  pk ACCOUNT#<owner>   sk WEBHOOK#cb_<task id>  a task's callback_url: one task's events, written with the task
  pk ACCOUNT#<owner>   sk ACCOUNT               the account; `webhook_count` caps account subscriptions
  pk HOOKSKILL#<skill> sk <webhook id>          a skill subscription's entry: who wants task.created for it
  pk HOOKLOG#<id>      sk <time>#<event>#<n>    one delivery attempt (kept DELIVERY_LOG_DAYS, then TTL)
Secrets are stored (they must be, to sign), encrypted at rest with the table, and never returned after the
response that creates or rotates them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.core.clock import from_iso, to_iso
from taskboard.core.errors import TooManyWebhooks, WebhookNotFound

WEBHOOKS_PER_ACCOUNT = 20
ROTATION_OVERLAP = timedelta(hours=24)
DELIVERY_LOG_DAYS = 30
ACCOUNT_PREFIX = "wh_"
CALLBACK_PREFIX = "cb_"


@dataclass(frozen=True)
class Subscription:
    id: str
    owner_id: str
    url: str
    secret: str
    created_at: str
    events: tuple[str, ...] = ()  # empty: every event type
    skills: tuple[str, ...] = ()
    task_id: str | None = None  # a callback_url subscription: this task's events only
    status: str = "active"  # or "disabled"
    disabled_reason: str | None = None
    disabled_at: str | None = None
    failing_since: str | None = None
    previous_secret: str | None = None
    previous_secret_expires_at: str | None = None

    def wants(self, event_type: str) -> bool:
        return event_type == "webhook.test" or not self.events or event_type in self.events

    def live_secrets(self, now: datetime) -> list[str]:
        """Newest first; the previous secret too for ROTATION_OVERLAP after a rotation."""
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires and from_iso(expires) > now:
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass(frozen=True)
class Route:
    """Where one event goes: a subscription, named by its key (the delivery re-reads it before sending)."""

    owner_id: str
    webhook_id: str


@dataclass(frozen=True)
class DeliveryAttempt:
    webhook_id: str
    event_id: str
    event_type: str
    attempt: int
    attempted_at: str
    outcome: str  # delivered, retrying, failed, disabled, skipped
    status_code: int | None = None
    error: str | None = None
    next_retry_at: str | None = None
    duration_ms: int | None = None


def new_webhook_id() -> str:
    return ACCOUNT_PREFIX + uuid.uuid4().hex


def callback_id(task_id: str) -> str:
    return CALLBACK_PREFIX + task_id


def _key(owner_id: str, webhook_id: str) -> dict[str, Any]:
    return keys.in_account(owner_id, f"WEBHOOK#{webhook_id}")


def _skill_key(skill: str, webhook_id: str) -> dict[str, Any]:
    """A subscription's entry under a skill it asked task.created for (HOOKSKILL#<skill> / <webhook id>)."""
    return keys.key(_skill_pk(skill), webhook_id)


def _skill_pk(skill: str) -> str:
    return f"HOOKSKILL#{skill}"


def _log_pk(webhook_id: str) -> str:
    return f"HOOKLOG#{webhook_id}"


_TEXT_FIELDS = (
    "id",
    "owner_id",
    "url",
    "secret",
    "created_at",
    "task_id",
    "status",
    "disabled_reason",
    "disabled_at",
    "failing_since",
    "previous_secret",
    "previous_secret_expires_at",
)


def subscription_item(sub: Subscription) -> dict[str, Any]:
    texts = {name: getattr(sub, name) for name in _TEXT_FIELDS}
    return {**_key(sub.owner_id, sub.id), **codec.item(**texts, events=list(sub.events), skills=list(sub.skills))}


def subscription_from_item(item: dict[str, Any]) -> Subscription:
    values: dict[str, Any] = {name: item[name]["S"] for name in _TEXT_FIELDS if name in item}
    values["events"] = tuple(e["S"] for e in item.get("events", {}).get("L", []))
    values["skills"] = tuple(s["S"] for s in item.get("skills", {}).get("L", []))
    return Subscription(**values)


def _skill_item(sub: Subscription, skill: str) -> dict[str, Any]:
    return {**_skill_key(skill, sub.id), **codec.item(owner_id=sub.owner_id)}


class SubscriptionRepository(TableAccess):
    # ---- the owner's side ------------------------------------------------------------------------------

    def create(self, sub: Subscription) -> None:
        """The subscription, its skill entries and the account's count in one transaction: the cap holds
        even when many creates race (1 request)."""
        count = {
            "Update": {
                "TableName": self.table,
                "Key": keys.account(sub.owner_id),
                "UpdateExpression": "SET webhook_count = if_not_exists(webhook_count, :zero) + :one",
                "ConditionExpression": "attribute_exists(pk) AND "
                "(attribute_not_exists(webhook_count) OR webhook_count < :max)",
                "ExpressionAttributeValues": codec.values(zero=0, one=1, max=WEBHOOKS_PER_ACCOUNT),
            }
        }
        puts = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": subscription_item(sub),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *({"Put": {"TableName": self.table, "Item": _skill_item(sub, skill)}} for skill in sub.skills),
        ]
        try:
            self.db.transact_write_items(TransactItems=[count, *puts])
        except self.db.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise TooManyWebhooks(
                    f"An account may hold at most {WEBHOOKS_PER_ACCOUNT} webhook subscriptions; delete one first."
                ) from None
            raise

    def callback_put(self, sub: Subscription) -> dict[str, Any]:
        """The transaction item that writes a task's callback subscription with the task itself."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": subscription_item(sub),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def get(self, owner_id: str, webhook_id: str) -> Subscription:
        """The caller's own subscription; anyone else's is as absent as a missing one (404, 1 request)."""
        found = None
        if webhook_id.startswith((ACCOUNT_PREFIX, CALLBACK_PREFIX)) and len(webhook_id) <= 64:
            found = self.find(Route(owner_id, webhook_id))
        if found is None:
            raise WebhookNotFound(f"No webhook with id {webhook_id!r}.")
        return found

    def find(self, route: Route) -> Subscription | None:
        """The subscription a route names, if it still exists (1 consistent GetItem)."""
        item = self.db.get_item(
            TableName=self.table, Key=_key(route.owner_id, route.webhook_id), ConsistentRead=True
        ).get("Item")
        return subscription_from_item(item) if item else None

    def account_subscriptions(self, owner_id: str) -> list[Subscription]:
        """The account's own subscriptions (not task callbacks): one Query of at most WEBHOOKS_PER_ACCOUNT."""
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=codec.values(pk=keys.account_pk(owner_id), prefix=f"WEBHOOK#{ACCOUNT_PREFIX}"),
            ConsistentRead=True,
        )
        return [subscription_from_item(item) for item in response["Items"]]

    def delete(self, sub: Subscription) -> None:
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": _key(sub.owner_id, sub.id),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            *({"Delete": {"TableName": self.table, "Key": _skill_key(s, sub.id)}} for s in sub.skills),
        ]
        if sub.task_id is None:
            actions.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": keys.account(sub.owner_id),
                        "UpdateExpression": "SET webhook_count = webhook_count - :one",
                        "ConditionExpression": "webhook_count > :zero",
                        "ExpressionAttributeValues": codec.values(one=1, zero=0),
                    }
                }
            )
        try:
            self.db.transact_write_items(TransactItems=actions)
        except self.db.exceptions.TransactionCanceledException:
            raise WebhookNotFound(f"No webhook with id {sub.id!r}.") from None

    def rotate(self, sub: Subscription, new_secret: str, now: datetime) -> Subscription:
        """The new secret signs from now on; the old one keeps signing too for ROTATION_OVERLAP."""
        rotated = replace(
            sub,
            secret=new_secret,
            previous_secret=sub.secret,
            previous_secret_expires_at=to_iso(now + ROTATION_OVERLAP),
        )
        self._update(
            sub,
            "SET secret = :secret, previous_secret = :previous, previous_secret_expires_at = :expires",
            codec.values(secret=rotated.secret, previous=sub.secret, expires=rotated.previous_secret_expires_at or ""),
        )
        return rotated

    def enable(self, sub: Subscription) -> Subscription:
        self._update(sub, "SET #status = :active REMOVE disabled_reason, disabled_at, failing_since", {})
        return replace(sub, status="active", disabled_reason=None, disabled_at=None, failing_since=None)

    # ---- the delivery side -----------------------------------------------------------------------------

    def disable(self, sub: Subscription, reason: str, now: datetime) -> None:
        self._update(
            sub,
            "SET #status = :disabled, disabled_reason = :reason, disabled_at = :now",
            codec.values(disabled="disabled", reason=reason, now=to_iso(now)),
        )

    def mark_failing(self, sub: Subscription, now: datetime) -> None:
        """Remember when the current run of failures began (kept if already set)."""
        self._update(sub, "SET failing_since = if_not_exists(failing_since, :now)", codec.values(now=to_iso(now)))

    def mark_healthy(self, sub: Subscription) -> None:
        self._update(sub, "REMOVE failing_since", {})

    def _update(self, sub: Subscription, expression: str, values: dict[str, Any]) -> None:
        names = {"#status": "status"} if "#status" in expression else {}
        values = values | (codec.values(active="active") if ":active" in expression else {})
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(sub.owner_id, sub.id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                **({"ExpressionAttributeNames": names} if names else {}),
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            raise WebhookNotFound(f"No webhook with id {sub.id!r}.") from None

    def skill_routes(self, skill: str) -> Iterator[Route]:
        """Subscriptions that asked for task.created of tasks with this skill (every page)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": codec.values(pk=_skill_pk(skill)),
        }
        while True:
            response = self.db.query(**query)
            for item in response["Items"]:
                yield Route(owner_id=item["owner_id"]["S"], webhook_id=item["sk"]["S"])
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def log(self, attempt: DeliveryAttempt) -> None:
        expires = int(from_iso(attempt.attempted_at).timestamp()) + DELIVERY_LOG_DAYS * 86_400
        item: dict[str, Any] = {
            **keys.key(_log_pk(attempt.webhook_id), f"{attempt.attempted_at}#{attempt.event_id}#{attempt.attempt:02d}"),
            **codec.item(
                event_id=attempt.event_id,
                event_type=attempt.event_type,
                attempt=attempt.attempt,
                attempted_at=attempt.attempted_at,
                outcome=attempt.outcome,
                expires_ttl=expires,
                status_code=attempt.status_code,
                duration_ms=attempt.duration_ms,
                error=None if attempt.error is None else attempt.error[:500],
                next_retry_at=None if attempt.next_retry_at is None else attempt.next_retry_at[:500],
            ),
        }
        self.db.put_item(TableName=self.table, Item=item)

    def attempts(self, webhook_id: str, limit: int, before: str | None) -> tuple[list[DeliveryAttempt], str | None]:
        """Newest first; `before` is the sort key a previous page ended at."""
        condition = "pk = :pk" + (" AND sk < :before" if before else "")
        values = codec.values(pk=_log_pk(webhook_id), **({"before": before} if before else {}))
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=limit,
        )
        found = [
            DeliveryAttempt(
                webhook_id=webhook_id,
                event_id=item["event_id"]["S"],
                event_type=item["event_type"]["S"],
                attempt=int(item["attempt"]["N"]),
                attempted_at=item["attempted_at"]["S"],
                outcome=item["outcome"]["S"],
                status_code=int(item["status_code"]["N"]) if "status_code" in item else None,
                error=item.get("error", {}).get("S"),
                next_retry_at=item.get("next_retry_at", {}).get("S"),
                duration_ms=int(item["duration_ms"]["N"]) if "duration_ms" in item else None,
            )
            for item in response["Items"]
        ]
        last = response.get("LastEvaluatedKey")
        return found, (last["sk"]["S"] if last else None)
