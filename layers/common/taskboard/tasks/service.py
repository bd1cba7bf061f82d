"""The task board's use cases: what each endpoint does, in domain terms. No HTTP here, no boto3."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from taskboard.core import tolerant
from taskboard.core.clock import Clock, to_iso, utc_now
from taskboard.core.errors import (
    AlreadyReviewed,
    Conflict,
    InvalidRequest,
    NotQualified,
    OperatorsOnly,
    OwnTask,
    ResultInvalid,
    SameOwner,
    StaleClaim,
    TaskNotFound,
    WriteConflict,
)
from taskboard.core.schema_check import check_output_schema, result_errors
from taskboard.money.purse import Purse
from taskboard.reputation.models import Reputation, Reviewed, ReviewRequest
from taskboard.reputation.record import Record
from taskboard.reputation.reviews import StoredReview, review_puts
from taskboard.tasks import contributions, finding, lifecycle, orders
from taskboard.tasks.finding import Search
from taskboard.tasks.items import (
    Change,
    Delivery,
    StoredTask,
    TaskBody,
)
from taskboard.tasks.lifecycle import TaskState
from taskboard.tasks.models import (
    CallbackSubscription,
    CreatedTask,
    CreateTaskRequest,
    DeliverRequest,
    NextTaskResponse,
    ResolveRequest,
    Task,
)
from taskboard.tasks.reads import review_view
from taskboard.tasks.store import TaskRepository
from taskboard.tasks.timers import TimerKind
from taskboard.tasks.writes import MAX_RACES, Decision, TaskWrites

if TYPE_CHECKING:
    from taskboard.webhooks.service import Webhooks

# claim_next tries this many candidates before it reports nothing found for this round.
_CLAIM_TRIES = 5


class TaskBoard(TaskWrites):
    """The task board's changes (post, claim, heartbeat, release, deliver, complete, reject, cancel, review, timers),
    each one read-decide-write: the pure rules decide, one transaction writes."""

    def __init__(
        self,
        tasks: TaskRepository,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        poll_interval: float = 2.0,
        webhooks: Callable[[], Webhooks] | None = None,
        feed_settle_seconds: float = 2.0,
        purse: Purse | None = None,
        records: Callable[[str], Record] | None = None,
    ) -> None:
        self.tasks = tasks
        self.records = records or (lambda account_id: Record())  # a worker's record, for qualifications
        self.webhooks = webhooks  # made on first use: only a task with a callback_url needs them
        self.feed_settle_seconds = feed_settle_seconds
        self.clock = clock
        self.sleep = sleep
        self.monotonic = monotonic
        self.poll_interval = poll_interval
        self.purse = purse

    # ---- posting and reading ------------------------------------------------------------------------------

    def post(self, caller: str, request: CreateTaskRequest, owner: str | None = None) -> CreatedTask:
        """Publish a task. `owner` answers for the caller (lifecycle.answerable; looked up when not given) and is
        recorded on the task, so that no account of the same owner can claim it."""
        if request.output_schema is not None:
            check_output_schema(request.output_schema)
        now = self.clock()
        task_id = str(uuid.uuid4())
        callback = None
        if request.callback_url is not None:
            if self.webhooks is None:
                raise InvalidRequest("callback_url is not available on this board.")
            callback = self.webhooks().callback(caller, task_id, request.callback_url, now)
        state = TaskState(
            id=task_id,
            title=request.title,
            poster_id=caller,
            poster_owner=owner or self._owner_of(caller),
            created_at=to_iso(now),
            updated_at=to_iso(now),
            tags=tuple(request.tags),
            requires_human=request.requires_human,
            timeout_seconds=request.timeout,
            max_attempts=request.max_attempts,
            auto_complete_seconds=request.auto_complete_seconds,
            posted_by=request.posted_by,
            has_output_schema=request.output_schema is not None,
            callback=callback is not None,
            budget=request.budget,
            min_rating=request.min_rating,
            min_completed=request.min_completed,
            revisions_included=request.revisions_included,
        )
        body = TaskBody(description=request.description, input=request.input, output_schema=request.output_schema)
        state, events = self._record(None, state, now)
        also = [self.webhooks().subscriptions.callback_put(callback)] if self.webhooks and callback else []
        change = Change(
            None,
            state,
            tuple(events),
            contributions.of_change(None, state, (), self._fee_percent),
            body=body,
            items=tuple(also),
        )
        for _ in range(MAX_RACES):  # a budget is escrowed on the balance it was read at; a race reads again
            try:
                self._commit(change, now)
                break
            except WriteConflict:
                continue
        else:
            raise Conflict("Your balance is changing too fast; try again.")
        task = self._view(StoredTask(state, body), caller, now)
        if callback is None:
            return CreatedTask(**task.model_dump())
        answer = CallbackSubscription(webhook_id=callback.id, url=callback.url, secret=callback.secret)
        return CreatedTask(**task.model_dump(), callback=answer)

    # ---- finding and claiming work -------------------------------------------------------------------------

    def claim_next(
        self,
        caller: str,
        search: Search,
        agent_id: str | None,
        timeout: float,
        owner: str | None = None,
        cursor: str | None = None,
    ) -> NextTaskResponse:
        """Find and claim in one call: a lost race for one candidate moves on to the next. `cursor` continues a
        previous call's search (finding.Scan)."""
        scan = finding.Scan.resumed(cursor, search)
        record = self.records(caller)
        owner = owner or self._owner_of(caller)
        search = replace(search, record=record, owner=owner)

        def attempt() -> Task | None:
            for tries, task_id in enumerate(finding.claimable(self.tasks, caller, search, self.clock(), scan)):
                if tries >= _CLAIM_TRIES:
                    return None
                try:
                    return self._claim(task_id, caller, agent_id, lambda: record, owner)
                except (Conflict, OwnTask, SameOwner, TaskNotFound, NotQualified, tolerant.Unreadable):  # next
                    continue
            return None

        claimed = self._search(attempt, timeout, scan)
        return NextTaskResponse(task=claimed, retry=claimed is None, cursor=scan.cursor() if claimed is None else None)

    def claim(self, task_id: str, caller: str, agent_id: str | None, owner: str | None = None) -> Task:
        """Claim one task. The caller's record is read (one GetItem) only if the task has qualifications; who
        answers for the caller (`owner`) is looked up (one GetItem) when not given."""
        return self._claim(task_id, caller, agent_id, lambda: self.records(caller), owner)

    def _claim(
        self, task_id: str, caller: str, agent_id: str | None, record: Callable[[], Record], owner: str | None
    ) -> Task:
        known: dict[str, str] = {}

        def owner_of(account_id: str) -> str:
            if account_id not in known:
                known[account_id] = self._owner_of(account_id)
            return known[account_id]

        def decide(state: TaskState, now: datetime) -> TaskState:
            if state.poster_owner is None:  # posted before posters' owners were recorded: the claim records it
                state = replace(state, poster_owner=owner_of(state.poster_id))
            mine = record() if lifecycle.qualified(state) else None
            return lifecycle.claim(state, caller, now, agent_id, mine, owner or owner_of(caller))

        return self._transition(task_id, caller, decide)

    def heartbeat(self, task_id: str, caller: str, attempt: int | None) -> Task:
        return self._transition(task_id, caller, lambda s, now: lifecycle.heartbeat(s, caller, now, attempt))

    def release(self, task_id: str, caller: str, attempt: int | None) -> Task:
        return self._transition(task_id, caller, lambda s, now: lifecycle.release(s, caller, now, attempt))

    def deliver(self, task_id: str, caller: str, request: DeliverRequest) -> Task:
        """Check the result against the task's output_schema, then record it for the current claim only."""
        delivered = "result" in request.model_fields_set and request.result is not None
        if not delivered and request.result_url is None:
            raise InvalidRequest("Deliver a `result`, a `result_url`, or both.")

        checked: list[list[str]] = []  # the schema never changes: a re-decided race does not check again

        def decide(stored: StoredTask, now: datetime) -> Decision:
            self._readable(stored, caller, now)
            lifecycle.check_worker(stored.state, caller, now, request.attempt)  # 403/409 before any 422
            schema = stored.body.output_schema
            if schema is not None and delivered and not checked:  # a result_url alone has nothing to check here
                checked.append(result_errors(schema, request.result))
            errors = checked[0] if checked else []
            if errors:
                raise ResultInvalid(
                    "Result does not match the required output_schema",
                    validation_errors=errors,
                    expected_schema=schema,
                )
            after = lifecycle.deliver(stored.state, caller, now, request.attempt)
            return Decision(after, delivery=Delivery(after.attempts, caller, request.result, request.result_url))

        changed = self._apply(task_id, decide, StaleClaim("The task changed while delivering; read it again."))
        assert changed is not None
        return self._view(changed[0], caller, changed[1])

    # ---- the poster's side ---------------------------------------------------------------------------------

    def complete(self, task_id: str, caller: str) -> Task:
        return self._transition(task_id, caller, lambda s, now: lifecycle.complete(s, caller, now))

    def reject(self, task_id: str, caller: str, reason: str | None) -> Task:
        return self._transition(task_id, caller, lambda s, now: lifecycle.reject(s, caller, now, reason), drop=True)

    def cancel(self, task_id: str, caller: str) -> Task:
        return self._transition(task_id, caller, lambda s, now: lifecycle.cancel(s, caller, now))

    def revise(self, task_id: str, caller: str, feedback: str) -> Task:
        """The poster sends the delivery back to its worker with feedback (within the task's revisions)."""
        changed = self._task_rule(
            task_id, caller, "revision", lambda s, now: lifecycle.revise(s, caller, now, feedback)
        )
        return self._view(changed[0], caller, changed[1])

    def dispute(self, task_id: str, caller: str, reason: str) -> Task:
        """The poster or the worker takes a delivered task to the operator (its auto-complete stops)."""
        changed = self._task_rule(task_id, caller, "dispute", lambda s, now: orders.dispute(s, caller, now, reason))
        return self._view(changed[0], caller, changed[1])

    def resolve(self, task_id: str, operator: str, role: str, request: ResolveRequest) -> Task:
        """The operator settles a task's dispute as an order's (taskboard.tasks.orders.resolve): the poster refunded,
        the worker paid, or the budget split; the answer shows the operator the result it judged."""
        if role != "operator":
            raise OperatorsOnly("Only the deployment's operator can resolve a dispute.")

        def decide(state: TaskState, now: datetime) -> TaskState:
            orders.check_split(state, request.outcome, request.buyer_amount, request.seller_amount)
            return orders.resolve(state, operator, now, request.outcome, request.buyer_amount, request.note)

        changed = self._task_rule(task_id, operator, "resolve", decide)
        return self._view(changed[0], operator, changed[1], owns=lambda account: True)  # the result it judged

    def _task_rule(
        self, task_id: str, caller: str, rule: str, decide: Callable[[TaskState, datetime], TaskState]
    ) -> tuple[StoredTask, datetime]:
        """A task rule whose events the rule names (tasks.orders.TASK_EVENTS; a dispute's cause: who opened it)."""

        def decision(stored: StoredTask, now: datetime) -> Decision:
            events = orders.TASK_EVENTS[rule]
            if rule == "dispute":
                cause = "worker" if caller == stored.state.claimed_by else "poster"
                events = tuple(replace(event, cause=cause) for event in events)
            return Decision(decide(self._readable(stored, caller, now).state, now), events=events)

        changed = self._apply(task_id, decision, Conflict("The task is changing too fast; try again."))
        assert changed is not None
        return changed

    def review(self, task_id: str, caller: str, request: ReviewRequest) -> Reviewed:
        """The poster rates the worker of a completed task, once, perhaps with a tip. The review, the tip with
        its ledger entries, the worker's rating counters and the `task.reviewed` event are one transaction on
        the task's version: a retried or raced review is written once."""
        if self.purse is None:
            raise InvalidRequest("Reviews are not available on this board.")
        for _ in range(MAX_RACES):  # lost a race (another review, or a tip's balance moved): read again
            stored, now = self._load(task_id), self.clock()
            state = stored.state
            self._check_reviewer(state, caller)
            if stored.review is not None:
                raise AlreadyReviewed("You reviewed this task already; a review is final.")
            after = lifecycle.review(state, caller, now)
            worker = after.claimed_by
            assert worker is not None  # lifecycle.review: a completed task has its worker
            if state.poster_owner is None:
                # claimed before claims checked who answers for the worker (since then, a claim across one
                # owner's accounts is refused, and so a review between them cannot happen): check it here
                owners = self.tasks.owners_of([caller, worker])
                lifecycle.check_parties(owners[caller], owners[worker])
            review = StoredReview(worker, caller, request.rating, request.comment, request.tip, to_iso(now))
            shown = review_view(task_id, review)
            after, events = self._record(
                state,
                after,
                now,
                found=[lifecycle.DomainEvent("task.reviewed", "poster")],
                data={"review": shown.model_dump(mode="json")},
            )
            change = Change(
                state,
                after,
                tuple(events),
                contributions.of_review(caller, worker, request.rating, request.tip, self._fee_percent),
                items=(*review_puts(self.tasks.table, task_id, review), *self._review_items(state, request.rating)),
            )
            try:
                self._commit(change, now)
            except WriteConflict:
                continue
            return Reviewed(review=shown, worker=Reputation(**self.records(worker).shown()))
        raise Conflict("This task is changing too fast; try again.")

    def _check_reviewer(self, state: TaskState, caller: str) -> None:
        """Who may review (a task's poster: NotThePoster for anyone else; an order's buyer: taskboard.gigs)."""
        lifecycle.check_poster(state, caller)

    def _review_items(self, state: TaskState, rating: int) -> tuple[dict[str, Any], ...]:
        """Other items a review of `state` updates in its transaction (an order's: its gig's rating)."""
        return ()

    # ---- timers --------------------------------------------------------------------------------------------

    def fire_timer(self, kind: TimerKind, task_id: str, attempt: int, deadline: str) -> str:
        """Apply what a timer stands for, if it still applies: the task's new status, or "noop" when the task
        moved on since the timer started. Raises TimerFiredEarly before the deadline."""
        fire = lifecycle.expire if kind is TimerKind.CLAIM_EXPIRY else lifecycle.auto_complete

        def decide(stored: StoredTask, now: datetime) -> Decision | None:
            after = fire(stored.state, attempt, deadline, now)
            return Decision(after, cause="auto") if after is not None else None

        try:
            # a conflict means the worker or the poster acted in the same instant: re-read, perhaps nothing to do
            changed = self._apply(
                task_id, decide, Conflict("The task kept changing while its timer fired."), self._load_any
            )
        except TaskNotFound:
            return "noop"
        return str(changed[0].state.status) if changed else "noop"
