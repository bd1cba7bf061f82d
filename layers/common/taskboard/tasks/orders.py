"""An order's lifecycle as pure functions: work ordered from a gig, assigned to its seller from the start. An order
is a task (lifecycle.TaskState with kind "order": the buyer is its poster, the seller holds its one claim), so it
is written, numbered, timed, paid and recorded by the same machinery; only these rules differ.

    pending --start--> in_progress --deliver--> delivered --approve (or auto_approve_seconds)--> completed
       |                  ^    |                    |
       | decline, cancel  |    +----revision--------+ (up to revisions_included)
       v                  |
    cancelled <--cancel, once deliver_by has passed (a late order)
    in_progress, delivered --dispute--> disputed --the operator resolves--> completed (pay, split) | cancelled (refund)

Every rule returns a new state with `version` + 1, written only on the version it was decided on, as for tasks.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal

from taskboard.core.clock import from_iso, later, to_iso
from taskboard.core.errors import (
    InvalidRequest,
    InvalidTransition,
    NotAParty,
    NotTheBuyer,
    NotTheSeller,
    OwnDispute,
    RevisionsExhausted,
)
from taskboard.tasks.lifecycle import DomainEvent, Status, TaskState, _accept, _advance

ORDER = "order"
DAY = 86_400
Outcome = Literal["refund", "pay", "split"]
DISPUTABLE = frozenset({Status.IN_PROGRESS, Status.DELIVERED})


def is_order(state: TaskState) -> bool:
    return state.kind == ORDER


def place(
    *,
    order_id: str,
    gig_id: str,
    title: str,
    buyer: str,
    buyer_owner: str,
    seller: str,
    price: int,
    delivery_days: int,
    revisions_included: int,
    auto_approve_seconds: int,
    now: datetime,
) -> TaskState:
    """A new order of a gig: pending, its price to be escrowed from the buyer, assigned to the gig's seller."""
    return TaskState(
        id=order_id,
        kind=ORDER,
        gig_id=gig_id,
        title=title,
        poster_id=buyer,
        poster_owner=buyer_owner,
        created_at=to_iso(now),
        updated_at=to_iso(now),
        status=Status.PENDING,
        budget=price,
        claimed_by=seller,
        attempts=1,
        max_attempts=1,
        auto_complete_seconds=auto_approve_seconds,
        delivery_days=delivery_days,
        deliver_by=to_iso(later(now, delivery_days * DAY)),
        revisions_included=revisions_included,
    )


def check_seller(state: TaskState, caller: str) -> None:
    if caller != state.claimed_by:
        raise NotTheSeller("Only the order's seller can do this.")


def check_buyer(state: TaskState, caller: str) -> None:
    if caller != state.poster_id:
        raise NotTheBuyer("Only the order's buyer can do this.")


def _require(state: TaskState, action: str, *allowed: Status) -> None:
    if state.status not in allowed:
        named, kind = " or ".join(str(status) for status in allowed), "order" if is_order(state) else "task"
        raise InvalidTransition(
            f"Only a {named} {kind} can be {action}; this one is {state.status}.",
            **{f"{kind}_status": str(state.status)},
        )


def late(state: TaskState, now: datetime) -> bool:
    """Whether the order is past its deliver_by undelivered: its buyer may cancel it with a full refund."""
    return (
        state.status in (Status.PENDING, Status.IN_PROGRESS)
        and state.deliver_by is not None
        and from_iso(state.deliver_by) <= now
    )


def buyer_may_cancel(state: TaskState, now: datetime) -> bool:
    return state.status is Status.PENDING or late(state, now)


def start(state: TaskState, caller: str, now: datetime) -> TaskState:
    check_seller(state, caller)
    _require(state, "started", Status.PENDING)
    return _advance(state, now, status=Status.IN_PROGRESS, started_at=to_iso(now))


def decline(state: TaskState, caller: str, now: datetime, reason: str | None) -> TaskState:
    """The seller turns a pending order down: cancelled, the buyer refunded (contributions.movements)."""
    check_seller(state, caller)
    _require(state, "declined", Status.PENDING)
    return _advance(state, now, status=Status.CANCELLED, cancelled_at=to_iso(now), end_reason=reason)


def deliver(state: TaskState, caller: str, now: datetime) -> TaskState:
    """The seller delivers (the result was checked by the caller of this function): auto-approved after the
    gig's auto_approve_seconds unless the buyer approves, asks for a revision or disputes first."""
    check_seller(state, caller)
    _require(state, "delivered", Status.IN_PROGRESS)
    return _advance(
        state,
        now,
        status=Status.DELIVERED,
        delivered_at=to_iso(now),
        auto_complete_at=to_iso(later(now, state.auto_complete_seconds)),
    )


def approve(state: TaskState, caller: str, now: datetime) -> TaskState:
    """The buyer accepts the delivery: completed, the seller paid minus the fee."""
    check_buyer(state, caller)
    _require(state, "approved", Status.DELIVERED)
    return _accept(state, now)


def revisions_remaining(state: TaskState) -> int:
    return max(state.revisions_included - state.revisions_used, 0)


def revision(state: TaskState, caller: str, now: datetime, feedback: str) -> TaskState:
    """The buyer sends the delivery back with feedback: in progress again, one revision used, and the seller has
    the gig's delivery_days again from now. Past revisions_included, RevisionsExhausted (409)."""
    check_buyer(state, caller)
    _require(state, "sent back for a revision", Status.DELIVERED)
    if revisions_remaining(state) <= 0:
        raise RevisionsExhausted(
            f"This order included {state.revisions_included} revision(s), all used: approve the delivery or open a "
            "dispute.",
            revisions_used=state.revisions_used,
            revisions_remaining=0,
        )
    return _advance(
        state,
        now,
        status=Status.IN_PROGRESS,
        revisions_used=state.revisions_used + 1,
        revision_feedback=feedback,
        delivered_at=None,
        auto_complete_at=None,
        deliver_by=to_iso(later(now, state.delivery_days * DAY)),
    )


def cancel(state: TaskState, caller: str, now: datetime, reason: str | None) -> TaskState:
    """The buyer withdraws an order the seller has not started, or one past its deliver_by undelivered: cancelled,
    refunded in full."""
    check_buyer(state, caller)
    if not buyer_may_cancel(state, now):
        if state.status is Status.IN_PROGRESS:
            raise InvalidTransition(
                f"The seller started this order and has until {state.deliver_by} to deliver; after that you may "
                "cancel it (or open a dispute now).",
                order_status=str(state.status),
                deliver_by=state.deliver_by,
            )
        _require(state, "cancelled", Status.PENDING, Status.IN_PROGRESS)
    return _advance(state, now, status=Status.CANCELLED, cancelled_at=to_iso(now), end_reason=reason)


def dispute(state: TaskState, caller: str, now: datetime, reason: str) -> TaskState:
    """Either party takes an order in progress or delivered (a task: delivered) to the operator: no timer runs
    while it is disputed. The same rule for both: a task's poster is its buyer, its worker its seller."""
    if caller not in (state.poster_id, state.claimed_by):
        raise NotAParty(f"Only the {'order' if is_order(state) else 'task'}'s two parties can dispute it.")
    _require(state, "disputed", *sorted(DISPUTABLE if is_order(state) else {Status.DELIVERED}))
    return _advance(
        state,
        now,
        status=Status.DISPUTED,
        dispute_from=str(state.status),
        disputed_at=to_iso(now),
        disputed_by=caller,
        dispute_reason=reason,
        auto_complete_at=None,
    )


def check_split(state: TaskState, outcome: Outcome, buyer_amount: int | None, seller_amount: int | None) -> None:
    """A split's two amounts must be the whole escrow (InvalidRequest, naming it)."""
    if outcome == "split" and (buyer_amount or 0) + (seller_amount or 0) != state.budget:
        raise InvalidRequest(
            f"buyer_amount + seller_amount must be the escrow, {state.budget} credits "
            f"(sent {buyer_amount} + {seller_amount}).",
            escrow=state.budget,
        )


def resolve(
    state: TaskState, operator: str, now: datetime, outcome: Outcome, refund: int | None, note: str
) -> TaskState:
    """The operator settles a dispute: `refund` returns the whole escrow to the buyer (cancelled), `pay` pays the
    seller (completed), `split` returns `refund` credits to the buyer and pays the seller the rest (completed; the
    seller's part pays the platform's fee as any payout does)."""
    if operator in (state.poster_id, state.claimed_by):
        raise OwnDispute("You are a party to this order: another operator has to settle its dispute.")
    _require(state, "resolved", Status.DISPUTED)
    if outcome == "split" and (refund is None or not 0 < refund < state.budget):
        raise InvalidRequest(
            f"A split returns part of the escrow to the buyer: buyer_amount between 1 and {state.budget - 1}, "
            f"seller_amount the rest (the escrow is {state.budget}).",
            escrow=state.budget,
        )
    returned = {"refund": state.budget, "pay": 0, "split": refund or 0}[outcome]
    ended = replace(
        state,
        resolution=outcome,
        refunded=returned,
        resolution_note=note,
        resolved_at=to_iso(now),
        resolved_by=operator,
    )
    if outcome == "refund":
        return _advance(ended, now, status=Status.CANCELLED, cancelled_at=to_iso(now))
    return _advance(ended, now, status=Status.COMPLETED, completed_at=to_iso(now))


# The events of each rule (an order's completion by its timer is lifecycle.events_between's task.completed,
# renamed order.completed for an order: taskboard.tasks.service.TaskBoard._record).
EVENTS: dict[str, tuple[DomainEvent, ...]] = {
    "place": (DomainEvent("order.created", "buyer"),),
    "start": (DomainEvent("order.started", "seller"),),
    "decline": (DomainEvent("order.declined", "seller"),),
    "deliver": (DomainEvent("order.delivered", "seller"),),
    "approve": (DomainEvent("order.completed", "buyer"),),
    "revision": (DomainEvent("order.revision_requested", "buyer"),),
    "cancel": (DomainEvent("order.cancelled", "buyer"),),
    "dispute": (DomainEvent("order.disputed"),),
    "resolve": (DomainEvent("order.resolved", "operator"),),
}
# A task's own (lifecycle.revise, and dispute and resolve above).
TASK_EVENTS: dict[str, tuple[DomainEvent, ...]] = {
    "revision": (DomainEvent("task.revision_requested", "poster"),),
    "dispute": (DomainEvent("task.disputed"),),
    "resolve": (DomainEvent("task.resolved", "operator"),),
}


def summary(state: TaskState, now: datetime) -> dict[str, object]:
    """The order as its events carry it and as GET /orders shows it (without its requirements, input and
    delivery: taskboard.gigs.models.Order adds those for its parties); empty fields left out."""
    shown: dict[str, object] = {
        "id": state.id,
        "gig_id": state.gig_id,
        "title": state.title,
        "status": str(state.status),
        "buyer_id": state.poster_id,
        "seller_id": state.claimed_by,
        "price": state.budget,
        "delivery_days": state.delivery_days,
        "deliver_by": state.deliver_by,
        "late": late(state, now),
        "buyer_may_cancel": buyer_may_cancel(state, now),
        "revisions_included": state.revisions_included,
        "revisions_used": state.revisions_used,
        "revisions_remaining": revisions_remaining(state),
        "revision_feedback": state.revision_feedback,
        "auto_approve_seconds": state.auto_complete_seconds,
        "started_at": state.started_at,
        "delivered_at": state.delivered_at,
        "auto_approve_at": state.auto_complete_at,
        "completed_at": state.completed_at,
        "cancelled_at": state.cancelled_at,
        "end_reason": state.end_reason,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
    }
    shown |= dispute_views(state)
    return {name: value for name, value in shown.items() if value is not None}


def dispute_views(state: TaskState) -> dict[str, object]:
    """A dispute and its resolution as shown (of a task or an order), once there is one."""
    shown: dict[str, object] = {}
    if state.disputed_at is not None:
        shown["dispute"] = {
            "opened_by": state.disputed_by,
            "reason": state.dispute_reason,
            "opened_at": state.disputed_at,
            "status_before": state.dispute_from,
        }
    if state.resolution is not None:
        shown["resolution"] = {
            "outcome": state.resolution,
            "buyer_amount": state.refunded,
            "seller_amount": state.budget - state.refunded,
            "note": state.resolution_note,
            "resolved_by": state.resolved_by,
            "resolved_at": state.resolved_at,
        }
    return shown
