"""Tasks' items: the domain objects a task is stored as, and each one to and from its DynamoDB item (the layout
is drawn in taskboard.tasks.store)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from taskboard.core import codec, keys
from taskboard.reputation.reviews import StoredReview, review_from_item
from taskboard.tasks.contributions import Contribution
from taskboard.tasks.lifecycle import LIVE_STATUSES, Status, TaskState, available_since
from taskboard.tasks.timers import Timer, timer_of

ALL_TAG = "*"
INDEX_AVAILABLE = "Available"
INDEX_BY_STATUS = "ByStatus"
INDEX_BY_TAG = "ByTag"
INDEX_DEADLINES = "Deadlines"
FEED_INDEXES = {"EventsByPoster": "feed_poster", "EventsByWorker": "feed_worker"}
_FEED_READS_PER_INDEX = 5
EVENT_RETENTION_DAYS = 30
_STATE_FIELDS = {f.name: f for f in fields(TaskState)}
# The fields an order has (lifecycle.TaskState; a task uses some: revisions, a dispute): stored only when set, so a
# task's STATE item carries none of them until it needs them.
_ORDER_FIELDS = frozenset(list(_STATE_FIELDS)[list(_STATE_FIELDS).index("kind") :])
ORDER_KIND = "order"
# An order's listings, in the task listing indexes under partitions no tag can name (a tag is lower case):
# its buyer's orders (ByTag), its seller's (ByStatus), and the disputes waiting for the operator (Available).
BUYER_PREFIX = "BUYER#"
SELLER_PREFIX = "SELLER#"
DISPUTES = "DISPUTES"


@dataclass(frozen=True)
class TaskBody:
    description: str = ""
    input: Any = None
    output_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Delivery:
    attempt: int
    delivered_by: str
    result: Any = None
    result_url: str | None = None
    message: str | None = None  # an order's delivery message
    attachments: tuple[str, ...] = ()  # an order's delivery: URLs of its files


@dataclass(frozen=True)
class StoredTask:
    state: TaskState
    body: TaskBody
    delivery: Delivery | None = None
    review: StoredReview | None = None


@dataclass(frozen=True)
class Change:
    """One decided change of a task, everything its one transaction writes: the new state (with, for a new task,
    its body), the delivery to store or the current one to discard, the events that record the change, its
    contribution (credits moved, records counted: tasks.contributions) and the items of other domains that go
    with it (a review, a task's callback subscription). `before` is the state it was decided on (None: a new
    task), the state the write is conditioned on."""

    before: TaskState | None
    after: TaskState
    events: tuple[dict[str, Any], ...]
    contribution: Contribution
    body: TaskBody | None = None
    delivery: Delivery | None = None
    drop_delivery: bool = False
    items: tuple[dict[str, Any], ...] = ()  # transaction actions of other domains' items


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    last_key: str | None  # feed_sk of the last event returned
    more: bool


@dataclass(frozen=True)
class DuePage:
    timers: list[Timer]
    last_key: dict[str, Any] | None  # where the next page starts (the Query's LastEvaluatedKey)


@dataclass(frozen=True)
class ListingPage:
    sort_keys: list[str]
    more: bool
    # The sort key DynamoDB stopped at (for a filtered Query it can be past the last key returned).
    resume_after: str | None = None


def task_id_of(sort_key: str) -> str:
    return sort_key.rsplit("#", 1)[1]


# ---- item <-> domain --------------------------------------------------------------------------------------


def state_item(state: TaskState) -> dict[str, Any]:
    """The task's STATE item, with the keys of the Deadlines index while it waits for a deadline (a claim's
    expiry, a delivery's auto-complete: taskboard.tasks.timers), so the index holds only live deadlines."""
    values: dict[str, Any] = {
        name: getattr(state, name) for name in _STATE_FIELDS if name not in _ORDER_FIELDS or getattr(state, name)
    }
    values["status"] = str(state.status)
    timer = timer_of(state)
    if timer is not None:
        values |= timer.index_keys()
    if state.kind == ORDER_KIND:
        values |= order_listing_keys(state)
    else:
        # The '*' listing (every task, whatever its tags) is the STATE item itself: its keys in the listing
        # indexes, whose projected attributes (poster_id, budget, past_workers, ...) are STATE's own. One item
        # fewer in every transaction that moves a task between indexes.
        values |= _listing_keys(state, ALL_TAG)
        if state.status is Status.DISPUTED:  # the operator's queue, with the orders' disputes
            values |= {"avail_pk": DISPUTES, "avail_sk": f"{state.disputed_at}#{state.id}"}
    return {**keys.in_task(state.id, "STATE"), **codec.item(**values)}


def order_listing_keys(state: TaskState) -> dict[str, Any]:
    """An order's keys in the listing indexes: under its buyer (ByTag) and its seller (ByStatus), newest last,
    and while disputed under DISPUTES (Available), oldest dispute first. An order is never in a task listing."""
    created = f"{state.created_at}#{state.id}"
    values: dict[str, Any] = {
        "all_pk": BUYER_PREFIX + state.poster_id,
        "all_sk": created,
        "status_pk": SELLER_PREFIX + (state.claimed_by or ""),
        "status_sk": created,
    }
    if state.status is Status.DISPUTED:
        values |= {"avail_pk": DISPUTES, "avail_sk": f"{state.disputed_at}#{state.id}"}
    return values


def state_from_item(item: dict[str, Any]) -> TaskState:
    values = {name: codec.plain(attr) for name, attr in item.items() if name in _STATE_FIELDS}
    values["tags"] = tuple(values.get("tags", ()))
    values["past_workers"] = tuple(values.get("past_workers", ()))
    values["status"] = Status(values["status"])
    return TaskState(**values)


def _body_item(task_id: str, body: TaskBody) -> dict[str, Any]:
    # JSON text, not DynamoDB maps: any JSON round-trips exactly (floats included) and the size is predictable.
    return {
        **keys.in_task(task_id, "BODY"),
        **codec.item(
            description=body.description, input=json.dumps(body.input), output_schema=json.dumps(body.output_schema)
        ),
    }


def _body_from_item(item: dict[str, Any]) -> TaskBody:
    return TaskBody(
        description=item.get("description", {}).get("S", ""),
        input=json.loads(item["input"]["S"]),
        output_schema=json.loads(item["output_schema"]["S"]),
    )


def _delivery_item(task_id: str, delivery: Delivery) -> dict[str, Any]:
    return {
        **keys.in_task(task_id, "RESULT"),
        **codec.item(
            attempt=delivery.attempt,
            delivered_by=delivery.delivered_by,
            result=json.dumps(delivery.result),
            result_url=delivery.result_url,
            message=delivery.message,
            attachments=list(delivery.attachments) or None,
        ),
    }


def _delivery_from_item(item: dict[str, Any]) -> Delivery:
    return Delivery(
        attempt=int(item["attempt"]["N"]),
        delivered_by=item["delivered_by"]["S"],
        result=json.loads(item["result"]["S"]),
        result_url=item.get("result_url", {}).get("S"),
        message=item.get("message", {}).get("S"),
        attachments=tuple(codec.plain(item["attachments"])) if "attachments" in item else (),
    )


def event_item(state: TaskState, envelope: dict[str, Any], worker_id: str | None = None) -> dict[str, Any]:
    """One domain event (its Standard Webhooks envelope) as an outbox item beside its task, naming the accounts
    it concerns: the poster (`feed_poster`) and the worker involved (`feed_worker`; for a release, expiry or
    rejection, the one who lost the claim, although the task no longer names them). Nothing the envelope or
    the keys already hold is repeated (its id, time and sequence are in the envelope and the keys): the item
    stays under 1 KB, one write unit."""
    from taskboard.core.clock import from_iso

    sequence = int(envelope["data"]["sequence"])
    expires = int(from_iso(envelope["timestamp"]).timestamp()) + EVENT_RETENTION_DAYS * 86_400
    return {
        **keys.in_task(state.id, f"EVENT#{sequence:010d}"),
        **codec.item(
            type=envelope["type"],
            callback=state.callback or None,
            envelope=json.dumps(envelope, separators=(",", ":")),
            expires_ttl=expires,
            feed_poster=state.poster_id,
            feed_worker=worker_id,
            feed_sk=feed_key(envelope["timestamp"], state.id, sequence),
        ),
    }


def feed_key(timestamp: str, task_id: str, sequence: int) -> str:
    """An event's place in an account's feed: by time, then task, then the task's own order."""
    return f"{timestamp}#{task_id}#{sequence:010d}"


def _event_puts(
    table: str, state: TaskState, events: Iterable[dict[str, Any]], worker_id: str | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "Put": {
                "TableName": table,
                "Item": event_item(state, e, worker_id),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for e in events
    ]


def _listing_keys(state: TaskState, tag: str) -> dict[str, Any]:
    """A listing's keys in the three listing indexes, for the indexes its state belongs in."""
    created = f"{state.created_at}#{state.id}"
    since = available_since(state)
    values: dict[str, Any] = {"all_pk": tag, "all_sk": created}
    if state.status in LIVE_STATUSES and since is not None:
        values |= {"avail_pk": tag, "avail_sk": f"{since}#{state.id}"}
    else:
        values |= {"status_pk": f"{tag}#{state.status}", "status_sk": created}
    return values


def listing_items(state: TaskState) -> list[dict[str, Any]]:
    """The task's listing items, one per tag (the '*' listing is its STATE item: state_item), keyed for the
    indexes its state belongs in."""
    items = []
    for tag in state.tags:
        values = _listing_keys(state, tag)
        # `budget` is projected into every listing index: a budget filter is applied inside the Query.
        values |= {"task_id": state.id, "budget": state.budget}
        if "avail_pk" in values:
            # Projected into the Available index so a worker's search filters out, inside the Query, the
            # tasks it may not take (its own, ones it already attempted, ones it is not qualified for)
            # without reading the tasks.
            values |= {"poster_id": state.poster_id, "requires_human": state.requires_human}
            values |= {"poster_owner": state.poster_owner}  # who answers for the poster: see listing_page
            values |= {"past_workers": list(state.past_workers), "min_rating": state.min_rating}
            values |= {"min_completed": state.min_completed or None}
        items.append({**keys.in_task(state.id, f"TAG#{tag}"), **codec.item(**values)})
    return items


def _assemble(task_id: str, items: Iterable[dict[str, Any]]) -> StoredTask | None:
    by_sort = {item["sk"]["S"]: item for item in items}
    if "STATE" not in by_sort or "BODY" not in by_sort:
        return None
    delivery, review = by_sort.get("RESULT"), by_sort.get("REVIEW")
    return StoredTask(
        state=state_from_item(by_sort["STATE"]),
        body=_body_from_item(by_sort["BODY"]),
        delivery=_delivery_from_item(delivery) if delivery else None,
        review=review_from_item(review) if review else None,
    )


# ---- the repository ---------------------------------------------------------------------------------------
