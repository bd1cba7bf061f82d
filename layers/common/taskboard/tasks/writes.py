"""The task board's writing mechanics, shared by every change of a task or an order: read the item, decide with a
pure rule, number the change's events, write it all in one transaction on the version decided on, and on a lost
race read and decide again."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from taskboard.core.clock import to_iso
from taskboard.core.errors import BoardError, Conflict, WriteConflict
from taskboard.tasks import contributions, lifecycle, orders
from taskboard.tasks.items import Change, Delivery, StoredTask, TaskBody
from taskboard.tasks.lifecycle import TaskState
from taskboard.tasks.models import Task
from taskboard.tasks.reads import BODIES, POSTING_TERMS, TaskReads

# A transition re-reads and re-decides when another request changed the task (or an account it pays) in
# between; past this many lost races in a row the caller gets 409 and may retry. The money path has no one hot
# item (taskboard.money.purse): 50 paid completions in one instant lost at most 2 races each in every run
# measured (tests/integration/test_hot_accounts.py), so the retries go again at once, with no backoff.
MAX_RACES = 5


@dataclass(frozen=True)
class Decision:
    """What a transition writes: the new state, and a delivery to store or the current one to discard."""

    after: TaskState
    delivery: Delivery | None = None
    drop_delivery: bool = False
    cause: str | None = None  # who completed a delivery: "poster" (default) or "auto"
    events: tuple[lifecycle.DomainEvent, ...] | None = None  # None: those the status change implies


UNLESS_USED = ("revisions_included", "revisions_used")


class TaskWrites(TaskReads):
    """Read-decide-write (`_apply`, `_transition`), the events of a change (`_record`) and its one writer
    (`_commit`). TaskBoard (taskboard.tasks.service) and OrderBook (taskboard.gigs.orderbook) are made of it."""

    def _record(
        self,
        before: TaskState | None,
        after: TaskState,
        now: datetime,
        cause: str | None = None,
        found: Sequence[lifecycle.DomainEvent] | None = None,
        data: dict[str, Any] | None = None,
    ) -> tuple[TaskState, list[dict[str, Any]]]:
        """The change's domain events (`found`, or those its status change implies) as Standard Webhooks
        envelopes, numbered on from the task's last one, each with `data` added; and `after` carrying the new last
        number. The events are written in the change's own transaction."""
        if found is None:
            found = lifecycle.events_between(before, after, now, cause)
        if orders.is_order(after):  # an order's completion by its timer, or its review: order.*
            found = [replace(event, type=event.type.replace("task.", "order.", 1)) for event in found]
        first = (before.event_seq if before else 0) + 1
        after = replace(after, event_seq=first + len(found) - 1)
        subject, summary, later = self._event_subject(after, now)
        envelopes = [
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": event.type,
                "timestamp": to_iso(now),
                "data": {
                    subject: summary if event.type.endswith(".created") else later,
                    "sequence": first + offset,
                    "cause": event.cause,
                    **(data or {}),
                },
            }
            for offset, event in enumerate(found)
        ]
        return after, envelopes

    def _event_subject(self, after: TaskState, now: datetime) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """What an event carries of its task, under which name: the task without its bodies and empty fields,
        in full for task.created and without the posting's terms for every later event (they never change); an
        order's summary (taskboard.tasks.orders.summary) for an order."""
        if orders.is_order(after):
            shown = orders.summary(after, now)
            return "order", shown, shown
        view = self._view(StoredTask(after, TaskBody()), None, now)
        summary = view.model_dump(mode="json", exclude=BODIES | {"review"}, exclude_none=True)
        for name in UNLESS_USED:  # a task that allows no revisions says nothing of them: the item stays small
            if not summary.get(name):
                summary.pop(name, None)
        return "task", summary, {name: value for name, value in summary.items() if name not in POSTING_TERMS}

    def _transition(
        self, task_id: str, caller: str, decide: Callable[[TaskState, datetime], TaskState], drop: bool = False
    ) -> Task:
        """A transition that is one pure lifecycle rule (`drop`: it discards the current delivery)."""
        changed = self._apply(
            task_id,
            lambda stored, now: Decision(decide(self._readable(stored, caller, now).state, now), drop_delivery=drop),
            Conflict("The task is changing too fast; try again."),
        )
        assert changed is not None
        return self._view(changed[0], caller, changed[1])

    def _apply(
        self,
        task_id: str,
        decide: Callable[[StoredTask, datetime], Decision | None],
        conflict: BoardError,
        load: Callable[[str], StoredTask] | None = None,
    ) -> tuple[StoredTask, datetime] | None:
        """Read the task (with `load`, default _load), decide (a pure rule; None: nothing to do), write the
        decision with its events only if nobody changed the task meanwhile, else read and decide again. Raises
        TaskNotFound, whatever `decide` raises, and `conflict` after MAX_RACES lost races in a row."""
        load = load or self._load
        for _ in range(MAX_RACES):
            stored, now = load(task_id), self.clock()
            decision = decide(stored, now)
            if decision is None:
                return None
            after, events = self._record(stored.state, decision.after, now, decision.cause, decision.events)
            types = [event["type"] for event in events]
            change = Change(
                stored.state,
                after,
                tuple(events),
                contributions.of_change(stored.state, after, types, self._fee_percent),
                delivery=decision.delivery,
                drop_delivery=decision.drop_delivery and stored.delivery is not None,
            )
            try:
                self._commit(change, now)
            except WriteConflict:
                continue
            delivery = decision.delivery or (None if decision.drop_delivery else stored.delivery)
            return StoredTask(after, stored.body, delivery), now
        raise conflict

    @property
    def _fee_percent(self) -> int:
        return self.purse.fee_percent if self.purse is not None else 0

    def _commit(self, change: Change, now: datetime) -> None:
        """The one writer of a task's changes: the task's items (TaskRepository.actions) and what the change
        contributes (Purse.actions: one update per account with its balance conditions, the ledger entries
        numbered on each account's count and dated `now`) in one transaction. Raises WriteConflict when another
        change came first."""
        actions = self.tasks.actions(change)
        if self.purse is not None:
            moved = change.contribution
            actions += self.purse.actions(change.after.id, moved.moves, to_iso(now), moved.counts)
        self.tasks.write(actions)
