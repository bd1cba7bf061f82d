"""The task lifecycle as pure functions: no I/O, no AWS. Every rule about who may do what, and when, is here.

    open --claim--> claimed --deliver--> delivered --complete--> completed
      ^               |  (release, expiry)    |  (reject)
      +---------------+-----------------------+      (when attempts reach max_attempts: failed)
    open --cancel--> cancelled
    delivered --revise--> claimed (the same worker and attempt)    delivered --dispute--> disputed (tasks.orders)

Every transition returns a new `TaskState` with `version` + 1; the repository writes it only if the stored
version is still the one that was read, so two racing transitions can never both win.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from taskboard.core.clock import from_iso, later, to_iso
from taskboard.core.errors import (
    InvalidTransition,
    NotQualified,
    NotThePoster,
    NotTheWorker,
    OwnTask,
    RevisionsExhausted,
    SameOwner,
    StaleClaim,
    TaskNotClaimable,
    TimerFiredEarly,
)
from taskboard.reputation.record import Record


class Status(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # an order's own (taskboard.tasks.orders): placed and waiting for its seller, being worked on, and disputed
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DISPUTED = "disputed"


FINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
# Statuses a task can be found in through the availability index (a claim there may have lapsed).
LIVE_STATUSES = frozenset({Status.OPEN, Status.CLAIMED})


@dataclass(frozen=True)
class TaskState:
    """The small, mutable part of a task (its bodies live apart, so a state change writes ~1 KB)."""

    id: str
    title: str
    poster_id: str
    created_at: str
    # who answers for the poster (`answerable`): the owner that registered it, or the poster itself; None on a
    # task posted before this was recorded (the claim that finds it so looks it up and writes it)
    poster_owner: str | None = None
    tags: tuple[str, ...] = ()
    requires_human: bool = False
    timeout_seconds: int = 3600
    max_attempts: int = 3
    auto_complete_seconds: int = 86_400
    posted_by: str | None = None
    has_output_schema: bool = False
    callback: bool = False  # the poster gave a callback_url (a one-task webhook subscription)
    budget: int = 0  # credits held in escrow while the task is live (taskboard.money.purse)
    min_rating: float | None = None  # qualifications a worker's record must meet to claim (taskboard.reputation.record)
    min_completed: int = 0
    status: Status = Status.OPEN
    attempts: int = 0
    claimed_by: str | None = None
    agent_id: str | None = None
    claimed_at: str | None = None
    expires_at: str | None = None
    delivered_at: str | None = None
    auto_complete_at: str | None = None
    completed_at: str | None = None
    cancelled_at: str | None = None
    failed_at: str | None = None
    last_rejection_reason: str | None = None
    past_workers: tuple[str, ...] = ()
    updated_at: str = ""
    version: int = 1
    event_seq: int = 0  # the sequence number of the task's latest domain event
    # An order (kind "order": work ordered from a gig, assigned to its seller from the start; its rules are
    # taskboard.tasks.orders). A task leaves these at their defaults, and its STATE item does not store them.
    kind: str | None = None
    gig_id: str | None = None
    delivery_days: int = 0
    deliver_by: str | None = None  # past it, an undelivered order may be cancelled by its buyer, refunded
    revisions_included: int = 0
    revisions_used: int = 0
    revision_feedback: str | None = None
    started_at: str | None = None
    end_reason: str | None = None  # why the seller declined, or the buyer cancelled
    disputed_at: str | None = None
    disputed_by: str | None = None
    dispute_reason: str | None = None
    dispute_from: str | None = None  # the status the order was disputed in
    resolution: str | None = None  # the operator's: refund, pay or split
    refunded: int = 0  # of the escrow, credits a resolution returned to the buyer (the rest paid the seller)
    resolution_note: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None

    def claim_lapsed(self, now: datetime) -> bool:
        return self.status is Status.CLAIMED and self.expires_at is not None and from_iso(self.expires_at) <= now


def check_parties(poster_owner: str | None, worker_owner: str | None) -> None:
    """Raises SameOwner when the poster and the worker answer to one owner (when both are known)."""
    if poster_owner is not None and poster_owner == worker_owner:
        raise SameOwner(
            "This task's poster and you answer to the same owner: accounts of one owner cannot work for, pay, "
            "tip or review each other."
        )


def settle(state: TaskState, now: datetime) -> TaskState:
    """The task as it is at `now`: a claim past its `expires_at` has lapsed even if no timer has written it yet.

    The stored `version` is kept, so a transition computed from a settled state still races correctly."""
    if not state.claim_lapsed(now):
        return state
    assert state.expires_at is not None
    return _end_attempt(state, ended_at=state.expires_at)


def _end_attempt(state: TaskState, *, ended_at: str) -> TaskState:
    """The current claim ends without an accepted delivery: back to open, or failed on the last attempt."""
    exhausted = state.attempts >= state.max_attempts
    past = state.past_workers + ((state.claimed_by,) if state.claimed_by else ())
    return replace(
        state,
        status=Status.FAILED if exhausted else Status.OPEN,
        failed_at=ended_at if exhausted else None,
        claimed_by=None,
        agent_id=None,
        claimed_at=None,
        expires_at=None,
        delivered_at=None,
        auto_complete_at=None,
        past_workers=past[-10:],
    )


def _advance(state: TaskState, now: datetime, **changes: object) -> TaskState:
    return replace(state, **changes, updated_at=to_iso(now), version=state.version + 1)  # type: ignore[arg-type]


def claim(
    state: TaskState,
    caller: str,
    now: datetime,
    agent_id: str | None = None,
    record: Record | None = None,
    owner: str | None = None,
) -> TaskState:
    """Claim an open task (or one whose claim lapsed). `owner` answers for the caller (`answerable`). Raises
    OwnTask, SameOwner when the caller and the poster answer to one owner, TaskNotClaimable, and NotQualified
    when the task has qualifications the caller's `record` does not meet."""
    current = settle(state, now)
    if current.poster_id == caller:
        raise OwnTask("You posted this task; another agent has to claim it.")
    check_parties(current.poster_owner, owner)
    if current.status is not Status.OPEN:
        raise TaskNotClaimable(f"Task is {current.status}, not open.", task_status=str(current.status))
    check_qualified(current, record)
    return _advance(
        current,
        now,
        status=Status.CLAIMED,
        attempts=current.attempts + 1,
        claimed_by=caller,
        agent_id=agent_id,
        claimed_at=to_iso(now),
        expires_at=to_iso(later(now, current.timeout_seconds)),
    )


def qualified(state: TaskState) -> bool:
    """Whether the task asks anything of a worker's record."""
    return state.min_rating is not None or state.min_completed > 0


def check_qualified(state: TaskState, record: Record | None) -> None:
    if not qualified(state):
        return
    record = record or Record()
    reason = record.unmet(state.min_rating, state.min_completed)
    if reason is not None:
        raise NotQualified(
            reason,
            required={"min_rating": state.min_rating, "min_completed": state.min_completed},
            yours={"rating_avg": record.rating_avg, "rating_count": record.rating_count, "completed": record.completed},
        )


def check_worker(state: TaskState, caller: str, now: datetime, attempt: int | None = None) -> None:
    """Pass only for the current, unexpired claim of `caller` (and of `attempt`, when the worker names it).

    Raises NotTheWorker (403) for someone who never held a claim on the task, StaleClaim (409) for a worker
    whose claim lapsed, was released or rejected, or whose attempt number is not the current one."""
    was_worker = caller == state.claimed_by or caller in state.past_workers
    if not was_worker:
        raise NotTheWorker("Only the agent holding the claim can do this.")
    if state.status is not Status.CLAIMED or state.claimed_by != caller:
        raise StaleClaim(f"Your claim is no longer current: the task is {settle(state, now).status}.")
    if state.claim_lapsed(now):
        raise StaleClaim("Your claim expired; claim the task again if it is still open.")
    if attempt is not None and attempt != state.attempts:
        raise StaleClaim(f"Attempt {attempt} is not the current attempt ({state.attempts}).")


def heartbeat(state: TaskState, caller: str, now: datetime, attempt: int | None = None) -> TaskState:
    """Extend the caller's claim to now + the task's timeout."""
    check_worker(state, caller, now, attempt)
    return _advance(state, now, expires_at=to_iso(later(now, state.timeout_seconds)))


def release(state: TaskState, caller: str, now: datetime, attempt: int | None = None) -> TaskState:
    """Give the task back. The attempt is used up: open again, or failed if it was the last one."""
    check_worker(state, caller, now, attempt)
    return _advance(_end_attempt(state, ended_at=to_iso(now)), now)


def deliver(state: TaskState, caller: str, now: datetime, attempt: int | None = None) -> TaskState:
    """Record a delivery (the result itself was validated by the caller of this function)."""
    check_worker(state, caller, now, attempt)
    return _advance(
        state,
        now,
        status=Status.DELIVERED,
        expires_at=None,
        delivered_at=to_iso(now),
        auto_complete_at=to_iso(later(now, state.auto_complete_seconds)),
    )


def check_poster(state: TaskState, caller: str) -> None:
    if caller != state.poster_id:
        raise NotThePoster("Only the task's poster can do this.")


def complete(state: TaskState, caller: str, now: datetime) -> TaskState:
    """The poster accepts the delivery."""
    check_poster(state, caller)
    return _accept(state, now)


def _accept(state: TaskState, now: datetime) -> TaskState:
    if state.status is not Status.DELIVERED:
        raise InvalidTransition(f"Only a delivered task can be completed; this one is {settle(state, now).status}.")
    return _advance(state, now, status=Status.COMPLETED, completed_at=to_iso(now), auto_complete_at=None)


def reject(state: TaskState, caller: str, now: datetime, reason: str | None = None) -> TaskState:
    """The poster turns the delivery down: open for another attempt, or failed after the last one."""
    check_poster(state, caller)
    if state.status is not Status.DELIVERED:
        raise InvalidTransition(f"Only a delivered task can be rejected; this one is {settle(state, now).status}.")
    return _advance(_end_attempt(state, ended_at=to_iso(now)), now, last_rejection_reason=reason)


def revise(state: TaskState, caller: str, now: datetime, feedback: str) -> TaskState:
    """The poster sends the delivery back to the same worker with feedback, instead of rejecting it: claimed
    again by that worker, the same attempt, with the task's timeout from now. Past the task's
    revisions_included, RevisionsExhausted (409)."""
    check_poster(state, caller)
    if state.status is not Status.DELIVERED:
        raise InvalidTransition(f"Only a delivered task can be sent back; this one is {settle(state, now).status}.")
    if state.revisions_used >= state.revisions_included:
        raise RevisionsExhausted(
            f"This task allows {state.revisions_included} revision(s) and has used {state.revisions_used}: "
            "complete or reject the delivery, or open a dispute.",
            revisions_used=state.revisions_used,
            revisions_remaining=0,
        )
    return _advance(
        state,
        now,
        status=Status.CLAIMED,
        expires_at=to_iso(later(now, state.timeout_seconds)),
        delivered_at=None,
        auto_complete_at=None,
        revisions_used=state.revisions_used + 1,
        revision_feedback=feedback,
    )


def cancel(state: TaskState, caller: str, now: datetime) -> TaskState:
    """The poster withdraws a task nobody holds."""
    check_poster(state, caller)
    current = settle(state, now)
    if current.status is not Status.OPEN:
        raise InvalidTransition(f"Only an open task can be cancelled; this one is {current.status}.")
    return _advance(current, now, status=Status.CANCELLED, cancelled_at=to_iso(now))


def review(state: TaskState, caller: str, now: datetime) -> TaskState:
    """The poster reviews the worker of its completed task: the task's version (and its event sequence) moves on,
    so a racing review, or a racing anything, fails its condition. The review itself is the caller's to write."""
    check_poster(state, caller)
    if state.status is not Status.COMPLETED or state.claimed_by is None:
        raise InvalidTransition(f"Only a completed task can be reviewed; this one is {settle(state, now).status}.")
    return _advance(state, now)


def can_see_result(state: TaskState, caller: str | None) -> bool:
    return caller is not None and caller in (state.poster_id, state.claimed_by)


def available_since(state: TaskState) -> str | None:
    """Sort key of the availability index: when the task is (or becomes) claimable, None once it never will.

    Open tasks sort by creation (oldest first, so a reopened task keeps its place); a claimed task sorts at
    its expiry, which is exactly when it becomes claimable again without any timer."""
    if state.status is Status.OPEN:
        return state.created_at
    if state.status is Status.CLAIMED:
        return state.expires_at
    return None


# ---- timers ---------------------------------------------------------------------------------------------------


def expire(state: TaskState, attempt: int, deadline: str, now: datetime) -> TaskState | None:
    """The claim-expiry timer of `attempt` fires: the claim lapses, or None when the timer is stale (the task
    moved on, or a heartbeat moved the deadline). Raises TimerFiredEarly before the deadline."""
    if state.status is not Status.CLAIMED or state.attempts != attempt or state.expires_at != deadline:
        return None
    if not state.claim_lapsed(now):
        raise TimerFiredEarly(f"claim {attempt} of {state.id} expires at {deadline}")
    return _advance(settle(state, now), now)


def auto_complete(state: TaskState, attempt: int, deadline: str, now: datetime) -> TaskState | None:
    """The auto-complete timer fires: the delivery is accepted for the poster, or None when the poster
    already completed or rejected it. Raises TimerFiredEarly before the deadline."""
    if state.status is not Status.DELIVERED or state.attempts != attempt or state.auto_complete_at != deadline:
        return None
    if from_iso(deadline) > now:
        raise TimerFiredEarly(f"delivery {attempt} of {state.id} auto-completes at {deadline}")
    return _accept(state, now)


# ---- domain events -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainEvent:
    type: str
    cause: str | None = None


_CHANGES: dict[tuple[Status, Status], tuple[DomainEvent, ...]] = {
    (Status.OPEN, Status.CLAIMED): (DomainEvent("task.claimed"),),
    (Status.CLAIMED, Status.OPEN): (DomainEvent("task.released", "worker"),),
    (Status.CLAIMED, Status.FAILED): (
        DomainEvent("task.released", "worker"),
        DomainEvent("task.failed", "max_attempts"),
    ),
    (Status.CLAIMED, Status.DELIVERED): (DomainEvent("task.delivered"),),
    (Status.DELIVERED, Status.OPEN): (DomainEvent("task.rejected", "poster"),),
    (Status.DELIVERED, Status.FAILED): (
        DomainEvent("task.rejected", "poster"),
        DomainEvent("task.failed", "max_attempts"),
    ),
    (Status.OPEN, Status.CANCELLED): (DomainEvent("task.cancelled", "poster"),),
}


def events_between(
    before: TaskState | None, after: TaskState, now: datetime, cause: str | None = None
) -> list[DomainEvent]:
    """The domain events of one committed change, in order. A claim that lapsed unwritten is reported here
    too (task.expired before what followed it), so every expiry has its event whether a timer saw it or not.
    `cause` names who completed a delivery: "poster" or "auto"."""
    if before is None:
        return [DomainEvent("task.created")]
    events: list[DomainEvent] = []
    current = settle(before, now)
    if current.status is not before.status:
        events.append(DomainEvent("task.expired", "timeout"))
        if current.status is Status.FAILED:
            events.append(DomainEvent("task.failed", "max_attempts"))
    if (current.status, after.status) == (Status.DELIVERED, Status.COMPLETED):
        events.append(DomainEvent("task.completed", cause or "poster"))  # an order's: order.completed
    else:
        events.extend(_CHANGES.get((current.status, after.status), ()))
    return events
