"""DynamoDB storage of tasks. The only module that knows the table's layout; every conditional write is here.

One table, items grouped by task (pk = TASK#<id>):
  sk STATE       the small mutable part (lifecycle.TaskState), written with `version = :read_version`
  sk BODY        description, input, output_schema: written once at creation
  sk RESULT      the current delivery; deleted when a delivery is rejected
  sk REVIEW      the poster's review of a completed task (written once; a copy is in the worker's partition,
                 ACCOUNT#<worker> / REVIEW#<time>#<task>, for its list of reviews)
  sk EVENT#<seq> a domain event (the outbox): written in the same transaction as the change it records, so
                 an event exists if and only if its change committed; kept EVENT_RETENTION_DAYS (TTL). The
                 table's stream carries it to webhook subscribers; two sparse indexes make each account's feed:
    EventsByPoster (feed_poster=poster, feed_sk=<time>#<task>#<seq>) and EventsByWorker (feed_worker=worker)
  sk TAG#<tag>   one listing item per tag; the STATE item itself is the listing under '*' (every task). Each
                 carries the keys of the three sparse indexes, so finding work reads only tasks of the wanted
                 skill in the wanted state:
    Available (avail_pk=tag, avail_sk=<claimable-from time>#<id>) while open or claimed
    ByStatus  (status_pk=<tag>#<status>, status_sk=<created>#<id>) once delivered or finished
    ByTag     (all_pk=tag, all_sk=<created>#<id>) always
The STATE item of a task waiting for a deadline also carries the keys of the sparse Deadlines index
(due_pk=DUE#<bucket end>, due_sk=<deadline>#<kind>#<attempt>: taskboard.tasks.timers), read by the bucket's firing.
Every state change writes STATE and the listing items in one transaction, so an index never disagrees with
the task for longer than a GSI's replication lag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from taskboard.accounts.parties import answerable
from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.reputation.record import Record
from taskboard.tasks.items import (
    _FEED_READS_PER_INDEX,
    FEED_INDEXES,
    INDEX_AVAILABLE,
    INDEX_BY_STATUS,
    INDEX_BY_TAG,
    INDEX_DEADLINES,
    Change,
    DuePage,
    FeedPage,
    ListingPage,
    StoredTask,
    _assemble,
    _body_item,
    _delivery_item,
    _event_puts,
    listing_items,
    state_from_item,
    state_item,
)
from taskboard.tasks.lifecycle import TaskState
from taskboard.tasks.timers import Bucket, due_from_keys


class TaskRepository(TableAccess):
    def load(self, task_id: str) -> StoredTask | None:
        """The task with its body, current delivery and review: one strongly consistent Query over BODY,
        RESULT, REVIEW, STATE (events and listings sort outside that range and are not read)."""
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :body AND :state",
            ExpressionAttributeValues={
                **codec.values(pk=keys.task_pk(task_id), body="BODY", state="STATE"),
            },
            ConsistentRead=True,
        )
        return _assemble(task_id, response["Items"])

    def actions(self, change: Change) -> list[dict[str, Any]]:
        """The transaction items of the task's side of `change`: a new task (its state, body and listings, on
        the condition that the id is new) or a changed one (its state on the condition that the stored version
        is still the one decided on; its delivery stored or dropped; the listings when they moved), then its
        events and the other domains' items that go with it."""
        before, after = change.before, change.after
        if before is None:
            assert change.body is not None, "a new task has a body"
            actions: list[dict[str, Any]] = [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": state_item(after),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": {"TableName": self.table, "Item": _body_item(after.id, change.body)}},
                *({"Put": {"TableName": self.table, "Item": item}} for item in listing_items(after)),
            ]
            worker = after.claimed_by
        else:
            actions = [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": state_item(after),
                        "ConditionExpression": "version = :read_version",
                        "ExpressionAttributeValues": codec.values(read_version=before.version),
                    }
                }
            ]
            if change.delivery is not None:
                actions.append({"Put": {"TableName": self.table, "Item": _delivery_item(after.id, change.delivery)}})
            elif change.drop_delivery:
                actions.append({"Delete": {"TableName": self.table, "Key": keys.in_task(after.id, "RESULT")}})
            if listing_items(before) != listing_items(after):
                actions.extend({"Put": {"TableName": self.table, "Item": item}} for item in listing_items(after))
            worker = after.claimed_by or before.claimed_by
        actions.extend(_event_puts(self.table, after, change.events, worker))
        actions.extend(change.items)
        return actions

    def write(self, actions: list[dict[str, Any]]) -> None:
        """One transaction (1 request): all of a change or nothing. Raises WriteConflict when a condition
        failed (another change came first)."""
        self.transact(actions)

    def listing_page(
        self,
        index: str,
        partition: str,
        *,
        limit: int,
        ascending: bool,
        after: str | None = None,
        not_after: str | None = None,
        later_than: str | None = None,
        claimable_by: str | None = None,
        owner: str | None = None,
        requires_human: bool | None = None,
        budget: tuple[int | None, int | None] = (None, None),
        qualified: Record | None = None,
    ) -> ListingPage:
        """Sort keys of one index partition, in order, strictly past the cursor `after`.

        `not_after` keeps sort keys <= it (claimable by now); `later_than` keeps those > it (claimed, unexpired).
        Filters applied inside the Query: `budget` (low, high) keeps tasks whose budget is within (any index);
        on the Available index only, `claimable_by` drops tasks posted or already attempted by that account,
        `owner` drops tasks whose poster answers to that owner (taskboard.accounts.parties.answerable: the owner itself,
        and its agents), `requires_human` keeps only tasks with that flag, and `qualified` drops tasks whose
        qualifications that worker record does not meet.

        The `owner` filter needs `poster_owner` projected into the index; an index entry without it (an index
        that does not project it, or a task listed before it was recorded) passes the filter, and the reader
        drops the task once it has read its STATE (taskboard.tasks.finding.takeable)."""
        pk_name, sk_name = {
            INDEX_AVAILABLE: ("avail_pk", "avail_sk"),
            INDEX_BY_STATUS: ("status_pk", "status_sk"),
            INDEX_BY_TAG: ("all_pk", "all_sk"),
        }[index]
        values: dict[str, Any] = codec.values(pk=partition)
        # Sort keys are "<time>#<id>": "<time>#~" sorts after every key of that instant, so the bounds below
        # put a task whose time is exactly `not_after` in, and one exactly at `later_than` out.
        whole_instant = "#~"
        low = max(filter(None, (later_than and later_than + whole_instant, after if ascending else None)), default=None)
        high = min(filter(None, (not_after and not_after + whole_instant, None if ascending else after)), default=None)
        condition = "#pk = :pk"
        if low is not None and high is not None:
            condition += " AND #sk BETWEEN :low AND :high"
            values |= codec.values(low=low, high=high)
        elif low is not None:
            condition += " AND #sk >= :low"
            values |= codec.values(low=low)
        elif high is not None:
            condition += " AND #sk <= :high"
            values |= codec.values(high=high)
        names = {"#pk": pk_name} | ({"#sk": sk_name} if "#sk" in condition else {})
        filters = []
        if claimable_by is not None:
            filters.append("poster_id <> :caller AND NOT contains(past_workers, :caller)")
            values |= codec.values(caller=claimable_by)
        if owner is not None:
            filters.append("poster_id <> :owner AND (attribute_not_exists(poster_owner) OR poster_owner <> :owner)")
            values |= codec.values(owner=owner)
        if requires_human is not None:
            filters.append("requires_human = :human")
            values |= codec.values(human=requires_human)
        low_budget, high_budget = budget
        if low_budget is not None:
            filters.append("budget >= :low_budget")
            values |= codec.values(low_budget=low_budget)
        if high_budget is not None:
            filters.append("budget <= :high_budget")
            values |= codec.values(high_budget=high_budget)
        if qualified is not None:
            filters.append("(attribute_not_exists(min_completed) OR min_completed <= :completed)")
            filters.append("(attribute_not_exists(min_rating) OR min_rating <= :rating)")
            values |= codec.values(completed=qualified.completed)
            values |= codec.values(rating=qualified.rating)
        query: dict[str, Any] = {"FilterExpression": " AND ".join(filters)} if filters else {}
        response = self.db.query(
            TableName=self.table,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ScanIndexForward=ascending,
            Limit=limit + 2,  # bounds are inclusive: room for the cursor item and `later_than` itself
            **query,
        )
        keys = [item[sk_name]["S"] for item in response["Items"]]
        excluded = {after}
        keys = [key for key in keys if key not in excluded]
        stopped = response.get("LastEvaluatedKey", {}).get(sk_name, {}).get("S")
        more = len(keys) > limit or stopped is not None
        resume = keys[limit - 1] if len(keys) > limit else (stopped or (keys[-1] if keys else None))
        return ListingPage(sort_keys=keys[:limit], more=more, resume_after=resume)

    def due(self, bucket: Bucket, limit: int = 100, after: dict[str, Any] | None = None) -> DuePage:
        """A page of the deadlines a bucket holds (the Deadlines index, keys only, soonest first), after the
        page that ended at `after` (its LastEvaluatedKey). Eventually consistent, as every GSI read: a firing
        acts on what TaskBoard.fire_timer reads again from the table."""
        response = self.db.query(
            TableName=self.table,
            IndexName=INDEX_DEADLINES,
            KeyConditionExpression="due_pk = :pk",
            ExpressionAttributeValues=codec.values(pk=bucket.partition),
            Limit=limit,
            **({"ExclusiveStartKey": after} if after else {}),
        )
        return DuePage([due_from_keys(item) for item in response["Items"]], response.get("LastEvaluatedKey"))

    def events(self, task_id: str) -> list[dict[str, Any]]:
        """The task's recorded events (envelopes), oldest first."""
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :events)",
            ExpressionAttributeValues=codec.values(pk=keys.task_pk(task_id), events="EVENT#"),
            ConsistentRead=True,
        )
        return [json.loads(item["envelope"]["S"]) for item in response["Items"]]

    def feed_page(
        self, account: str, *, after: str | None, until: str, limit: int, types: tuple[str, ...] = ()
    ) -> FeedPage:
        """The account's events (as poster and as worker) with feed keys in (after, until], oldest first: one
        Query per index, merged. The page ends where the first index that has more stopped, so nothing between
        two pages is ever skipped."""
        streams: list[tuple[list[tuple[str, dict[str, Any]]], str | None]] = []
        for index, attribute in FEED_INDEXES.items():
            values: dict[str, Any] = codec.values(me=account, until=until)
            condition = "#pk = :me AND feed_sk <= :until"
            if after is not None:
                condition = "#pk = :me AND feed_sk BETWEEN :after AND :until"
                values |= codec.values(after=after)
            query: dict[str, Any] = {}
            if types:
                names = [f":t{n}" for n in range(len(types))]
                query["FilterExpression"] = f"#type IN ({', '.join(names)})"
                values |= codec.values(**{f"t{n}": t for n, t in enumerate(types)})
            items: list[tuple[str, dict[str, Any]]] = []
            stopped: str | None = None
            for _ in range(_FEED_READS_PER_INDEX):  # a `types` filter can leave a read short: read on, a little
                response = self.db.query(
                    TableName=self.table,
                    IndexName=index,
                    KeyConditionExpression=condition,
                    ExpressionAttributeNames={"#pk": attribute} | ({"#type": "type"} if types else {}),
                    ExpressionAttributeValues=values,
                    Limit=limit + 1,  # BETWEEN is inclusive: room for the cursor's own event
                    **query,
                )
                found = [(i["feed_sk"]["S"], json.loads(i["envelope"]["S"])) for i in response["Items"]]
                items.extend((key, event) for key, event in found if key != after)
                evaluated = response.get("LastEvaluatedKey")
                stopped = evaluated["feed_sk"]["S"] if evaluated else None
                if evaluated is None or len(items) > limit:
                    break
                query["ExclusiveStartKey"] = evaluated
            if len(items) > limit:
                stopped, items = items[limit - 1][0], items[:limit]
            streams.append((items, stopped))
        bounds = [stopped for _, stopped in streams if stopped is not None]
        cut = min(bounds) if bounds else None
        merged = sorted((pair for items, _ in streams for pair in items), key=lambda pair: pair[0])
        page = [pair for pair in merged if cut is None or pair[0] <= cut][:limit]
        more = cut is not None or len(merged) > len(page)
        last = page[-1][0] if page else (cut if cut is not None else after)
        return FeedPage(events=[event for _, event in page], last_key=last, more=more)

    def owners_of(self, account_ids: Iterable[str]) -> dict[str, str]:
        """Who answers for each account (taskboard.accounts.parties.answerable): its owner, or itself (an account that
        does not exist answers for itself). One consistent BatchGetItem of the ACCOUNT items: an account's owner
        is written once, with the account, and never changes, but an eventually consistent read could miss an
        account made a moment ago and take it for one that answers for itself."""
        wanted = list(dict.fromkeys(account_ids))
        lookups = [keys.account(account_id) for account_id in wanted]
        owners: dict[str, str | None] = dict.fromkeys(wanted)
        for item in self.batch_get(lookups, ProjectionExpression="pk, owner_id", ConsistentRead=True):
            owners[keys.account_id_of(item["pk"]["S"])] = item.get("owner_id", {}).get("S")
        return {account_id: answerable(account_id, owner) for account_id, owner in owners.items()}

    def load_states(self, task_ids: list[str]) -> dict[str, TaskState]:
        """Only the small STATE item of each task (BatchGetItem): enough to decide whether it can be taken."""
        found: dict[str, TaskState] = {}
        for items in self.batch_get([keys.in_task(task_id, "STATE") for task_id in dict.fromkeys(task_ids)]):
            state = state_from_item(items)
            found[state.id] = state
        return found

    def load_many(self, task_ids: list[str], deliveries: bool = False) -> dict[str, StoredTask]:
        """State and body of each task (and, with `deliveries`, its current delivery), in BatchGetItem requests of
        at most 100 keys."""
        found: dict[str, list[dict[str, Any]]] = {}
        sorts = ("STATE", "BODY", "RESULT") if deliveries else ("STATE", "BODY")
        lookups = [keys.in_task(task_id, sort) for task_id in dict.fromkeys(task_ids) for sort in sorts]
        for item in self.batch_get(lookups):
            found.setdefault(keys.task_id_of(item["pk"]["S"]), []).append(item)
        tasks = {task_id: _assemble(task_id, items) for task_id, items in found.items()}
        return {task_id: task for task_id, task in tasks.items() if task is not None}
