"""The task board's reads: one task, a listing, the next task for a worker, a result, the events and the feed.
TaskBoard (taskboard.tasks.service) adds the changes; both share one store, clock and view of a task."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from taskboard.core import keys, tolerant
from taskboard.core.clock import Clock, to_iso
from taskboard.core.errors import (
    TaskNotFound,
)
from taskboard.core.jsonvalues import json_size
from taskboard.core.limits import PAGE_MAX_BYTES
from taskboard.core.pagination import FEED_KEY, decode_cursor, encode_cursor
from taskboard.money.purse import Purse
from taskboard.reputation.models import Review
from taskboard.reputation.record import Record
from taskboard.reputation.reviews import StoredReview
from taskboard.tasks import finding, lifecycle, orders
from taskboard.tasks.finding import Search
from taskboard.tasks.items import (
    ALL_TAG,
    INDEX_AVAILABLE,
    INDEX_BY_STATUS,
    INDEX_BY_TAG,
    StoredTask,
    task_id_of,
)
from taskboard.tasks.lifecycle import Status
from taskboard.tasks.models import (
    EventFeed,
    NextTaskResponse,
    ResultResponse,
    Task,
    TaskList,
)
from taskboard.tasks.store import TaskRepository

if TYPE_CHECKING:
    from taskboard.webhooks.service import Webhooks

Owns = Callable[[str], bool]
"""Whether the caller (an owner account) registered the agent with this id."""

# Events carry the task without its bodies (receivers fetch those) and without its empty fields: an event item
# stays under 1 KB (one write unit), and so does each feed index entry. task.created carries the posting's
# terms (what a worker decides on); the later events leave them out: they never change.
BODIES = {"description", "input", "output_schema", "result", "result_url"}
POSTING_TERMS = frozenset(
    {
        "requires_human",
        "timeout_seconds",
        "max_attempts",
        "auto_complete_seconds",
        "min_rating",
        "min_completed",
        "revisions_included",
    }
)
WAITING_FOR_RESULT = frozenset({Status.OPEN, Status.CLAIMED})


class TaskReads:
    """What TaskBoard is given (see its __init__), and every read of tasks."""

    tasks: TaskRepository
    records: Callable[[str], Record]
    webhooks: Callable[[], Webhooks] | None
    feed_settle_seconds: float
    clock: Clock
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]
    poll_interval: float
    purse: Purse | None

    def get(self, task_id: str, caller: str | None, owns: Owns | None = None) -> Task:
        return self._view(self._load(task_id), caller, self.clock(), owns)

    def browse(
        self,
        status: str,
        skills: tuple[str, ...],
        limit: int,
        cursor: str | None,
        requires_human: bool | None,
        budget: tuple[int | None, int | None] = (None, None),
    ) -> TaskList:
        """One page of tasks in `status` with any of `skills` and a budget within `budget` (low, high); a page
        may hold fewer than `limit` tasks (the budget is filtered inside the Query)."""
        after = decode_cursor(cursor)
        now = self.clock()
        partitions = skills or (ALL_TAG,)
        filters: dict[str, Any] = {"budget": budget}
        if status in ("open", "claimed"):
            filters |= {"not_after": to_iso(now)} if status == "open" else {"later_than": to_iso(now)}
            found, resume = finding.merged_page(self.tasks, INDEX_AVAILABLE, partitions, limit, True, after, **filters)
        elif status == "all":
            found, resume = finding.merged_page(self.tasks, INDEX_BY_TAG, partitions, limit, False, after, **filters)
        else:
            found, resume = finding.merged_page(
                self.tasks, INDEX_BY_STATUS, tuple(f"{p}#{status}" for p in partitions), limit, False, after, **filters
            )
        stored = self.tasks.load_many([task_id_of(key) for key in found])
        page: list[Task] = []
        size = 0
        for position, key in enumerate(found):
            task = stored.get(task_id_of(key))
            if task is None:
                continue
            view = tolerant.read(self._view, task, None, now, key=keys.task_pk(task.state.id), kind="task")
            if view is None:
                continue  # cannot be shown (logged, counted in UnreadableItems): the rest of the page still is
            if (status != "all" and view.status != status) or (
                requires_human is not None and view.requires_human != requires_human
            ):
                continue  # a claim lapsed since the index was written: it is listed under its real status
            size += json_size(view.model_dump(mode="json"))
            if page and size > PAGE_MAX_BYTES:
                resume = found[position - 1]
                break
            page.append(view)
        return TaskList(tasks=page, next_cursor=encode_cursor(resume) if resume else None)

    def next(
        self, caller: str, search: Search, timeout: float, owner: str | None = None, cursor: str | None = None
    ) -> NextTaskResponse:
        """The oldest claimable task for `search`, waiting up to `timeout` seconds for one to appear. `owner`
        answers for the caller (looked up when not given): tasks of the same owner's accounts are not offered.
        `cursor` (a previous answer's) continues that search where it stopped (finding.Scan)."""
        scan = finding.Scan.resumed(cursor, search)
        search = replace(search, record=self.records(caller), owner=owner or self._owner_of(caller))

        def attempt() -> Task | None:
            for task_id in finding.claimable(self.tasks, caller, search, self.clock(), scan):
                stored = self.tasks.load(task_id)
                if stored is not None and finding.takeable(
                    lifecycle.settle(stored.state, self.clock()), caller, search
                ):
                    view = tolerant.read(
                        self._view, stored, caller, self.clock(), key=keys.task_pk(task_id), kind="task"
                    )
                    if view is not None:  # else skipped (logged, counted): the next candidate
                        return view
            return None

        found = self._search(attempt, timeout, scan)
        return NextTaskResponse(task=found, retry=found is None, cursor=scan.cursor() if found is None else None)

    def result(self, task_id: str, caller: str, timeout: float, owns: Owns | None = None) -> ResultResponse:
        """The poster (or the owner who registered it) waits up to `timeout` seconds for a delivery or an end."""
        latest = self._load(task_id)
        if owns is None or not owns(latest.state.poster_id):
            lifecycle.check_poster(latest.state, caller)
        reads = 0

        def finished() -> StoredTask | None:
            nonlocal latest, reads
            if reads:
                latest = self._load(task_id)
            reads += 1
            settled = lifecycle.settle(latest.state, self.clock())
            return latest if settled.status not in WAITING_FOR_RESULT else None

        stored = self._poll(finished, timeout) or latest
        task = self._view(stored, caller, self.clock(), owns)
        return ResultResponse(
            status=task.status,
            result=task.result,
            result_url=task.result_url,
            task=task,
            retry=Status(task.status) in WAITING_FOR_RESULT,
        )

    def events(self, task_id: str) -> list[dict[str, Any]]:
        return self.tasks.events(task_id)

    def feed(self, caller: str, after: str | None, limit: int, types: tuple[str, ...]) -> EventFeed:
        """The caller's events (tasks it posted, claims it held), oldest first, from the cursor `after` on.

        Only events at least feed_settle_seconds old are shown: an event is stamped before its transaction
        commits, so a younger one could still appear behind a cursor that already passed its time."""
        settled = to_iso(self.clock() - timedelta(seconds=self.feed_settle_seconds))
        page = self.tasks.feed_page(
            caller, after=decode_cursor(after, FEED_KEY), until=settled + "#~", limit=limit, types=types
        )
        cursor = encode_cursor(page.last_key) if page.last_key else None
        events = tolerant.read_all(page.events, tolerant.same, lambda event: f"EVENT {event.get('id')}", "event")
        return EventFeed(events=events, next_cursor=cursor, has_more=page.more)

    def _owner_of(self, account_id: str) -> str:
        """Who answers for an account (lifecycle.answerable): one consistent BatchGetItem of one key."""
        return self.tasks.owners_of([account_id])[account_id]

    def _readable(self, stored: StoredTask, caller: str | None, now: datetime) -> StoredTask:
        """`stored`, if the task can be shown (its view renders); else tolerant.Unreadable (a 500), raised before the
        change is written, so that no change commits behind a 500."""
        tolerant.require(self._view, stored, caller, now, key=keys.task_pk(stored.state.id), kind="task")
        return stored

    def _load(self, task_id: str) -> StoredTask:
        """The task, or TaskNotFound: an order (kind "order") is not a task to the task endpoints (its own are
        under /orders: taskboard.gigs.orderbook.OrderBook)."""
        stored = self._load_any(task_id)
        if stored.state.kind is not None:
            raise TaskNotFound(f"No task with id {task_id!r}.")
        return stored

    def _load_any(self, task_id: str) -> StoredTask:
        """A task or an order (what a timer fires on), or TaskNotFound."""
        stored = self.tasks.load(task_id) if is_task_id(task_id) else None
        if stored is None:
            raise TaskNotFound(f"No task with id {task_id!r}.")
        return stored

    def _search(self, attempt: Callable[[], Any], timeout: float, scan: finding.Scan) -> Any:
        """As _poll, for a search: an attempt that stopped at its page budget with more unread reads on at once
        (no wait) until the call has read PAGES_PER_CALL pages of a partition; after that it waits as _poll."""
        deadline = self.monotonic() + timeout
        while True:
            scan.cut = False
            found = attempt()
            if found is not None:
                return found
            if scan.cut and not scan.exhausted():
                continue
            if self.monotonic() + self.poll_interval > deadline:
                return None
            self.sleep(self.poll_interval)

    def _poll(self, attempt: Callable[[], Any], timeout: float) -> Any:
        """Call `attempt` now and then every poll_interval until it returns something or `timeout` runs out."""
        deadline = self.monotonic() + timeout
        while True:
            found = attempt()
            if found is not None or self.monotonic() + self.poll_interval > deadline:
                return found
            self.sleep(self.poll_interval)

    def _view(self, stored: StoredTask, caller: str | None, now: datetime, owns: Owns | None = None) -> Task:
        """The task as `caller` may see it: the result only for its poster, the worker who delivered it, and
        (through `owns`) the owner account that registered either of them."""
        state = lifecycle.settle(stored.state, now)
        delivery = stored.delivery
        parties = (state.poster_id, delivery.delivered_by) if delivery is not None else ()
        visible = caller is not None and (caller in parties or (owns is not None and any(map(owns, parties))))
        return Task(
            id=state.id,
            title=state.title,
            description=stored.body.description,
            input=stored.body.input,
            output_schema=stored.body.output_schema,
            tags=list(state.tags),
            requires_human=state.requires_human,
            timeout_seconds=state.timeout_seconds,
            max_attempts=state.max_attempts,
            auto_complete_seconds=state.auto_complete_seconds,
            posted_by=state.posted_by,
            poster_id=state.poster_id,
            budget=state.budget,
            min_rating=state.min_rating,
            min_completed=state.min_completed,
            status=state.status.value,  # type: ignore[arg-type]  # never an order's (pending, ...): _load
            attempts=state.attempts,
            claimed_by=state.claimed_by,
            agent_id=state.agent_id,
            claimed_at=state.claimed_at,
            expires_at=state.expires_at,
            delivered_at=state.delivered_at,
            auto_complete_at=state.auto_complete_at,
            completed_at=state.completed_at,
            cancelled_at=state.cancelled_at,
            failed_at=state.failed_at,
            last_rejection_reason=state.last_rejection_reason,
            revisions_included=state.revisions_included,
            revisions_used=state.revisions_used,
            revision_feedback=state.revision_feedback,
            **orders.dispute_views(state),  # type: ignore[arg-type]  # dispute and resolution, as dicts
            result=delivery.result if visible and delivery else None,
            result_url=delivery.result_url if visible and delivery else None,
            review=review_view(state.id, stored.review) if stored.review else None,
            created_at=state.created_at,
            updated_at=state.updated_at,
        )


def review_view(task_id: str, review: StoredReview) -> Review:
    return Review(task_id=task_id, **vars(review))


def is_task_id(task_id: str) -> bool:
    try:
        return str(uuid.UUID(task_id)) == task_id
    except ValueError:
        return False
