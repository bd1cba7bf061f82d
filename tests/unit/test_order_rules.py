"""An order's pure rules (taskboard.tasks.orders) and what they move (taskboard.tasks.contributions): who may do
what in which status, the revision allowance, late orders, and a resolution's split."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from taskboard.core.errors import (
    InvalidRequest,
    InvalidTransition,
    NotAParty,
    NotTheBuyer,
    NotTheSeller,
    OwnDispute,
    RevisionsExhausted,
)
from taskboard.money.rules import PLATFORM, Movement
from taskboard.tasks import orders
from taskboard.tasks.contributions import movements
from taskboard.tasks.lifecycle import Status, TaskState
from taskboard.tasks.timers import TimerKind, timer_of

NOW = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)


def placed(price: int = 20, revisions: int = 1, days: int = 2) -> TaskState:
    return orders.place(
        order_id="9b2d3c4e-5f60-4a71-8b82-9c93a4b5c6d7",
        gig_id="g",
        title="t",
        buyer="buyer",
        buyer_owner="buyer",
        seller="seller",
        price=price,
        delivery_days=days,
        revisions_included=revisions,
        auto_approve_seconds=60,
        now=NOW,
    )


def delivered(state: TaskState | None = None) -> TaskState:
    state = state or placed()
    return orders.deliver(orders.start(state, "seller", NOW), "seller", NOW)


def test_a_placed_order_is_pending_assigned_to_the_seller_and_escrows_its_price() -> None:
    order = placed()
    assert (order.status, order.claimed_by, order.poster_id, order.kind) == (Status.PENDING, "seller", "buyer", "order")
    assert order.deliver_by == "2026-11-24T13:00:00.000000Z"
    assert movements(None, order, 10) == [Movement("buyer", "escrow", -20, +20)]
    assert timer_of(order) is None  # nothing fires on a pending order: lateness is read, not timed


def test_only_the_seller_starts_declines_and_delivers_and_only_in_its_status() -> None:
    order = placed()
    with pytest.raises(NotTheSeller):
        orders.start(order, "buyer", NOW)
    with pytest.raises(InvalidTransition):
        orders.deliver(order, "seller", NOW)  # start it first
    started = orders.start(order, "seller", NOW)
    assert (started.status, started.version) == (Status.IN_PROGRESS, order.version + 1)
    with pytest.raises(InvalidTransition):
        orders.decline(started, "seller", NOW, None)  # only a pending order is declined
    declined = orders.decline(order, "seller", NOW, "busy")
    assert (declined.status, declined.end_reason) == (Status.CANCELLED, "busy")
    assert movements(order, declined, 10) == [Movement("buyer", "refund", +20, -20)]


def test_a_delivery_waits_for_its_auto_approve_deadline_and_approval_pays_the_seller_minus_the_fee() -> None:
    order = delivered()
    timer = timer_of(order)
    assert timer is not None and timer.kind is TimerKind.AUTO_COMPLETE
    assert order.auto_complete_at == "2026-11-22T13:01:00.000000Z"
    with pytest.raises(NotTheBuyer):
        orders.approve(order, "seller", NOW)
    done = orders.approve(order, "buyer", NOW)
    assert done.status is Status.COMPLETED
    assert movements(order, done, 10) == [
        Movement("buyer", "payout", 0, -20),
        Movement("seller", "payout", 18),
        Movement(PLATFORM, "fee", 2),
    ]


def test_revisions_count_against_the_allowance_and_give_the_seller_its_days_again() -> None:
    later = NOW + timedelta(days=1)
    first = orders.revision(delivered(), "buyer", later, "more")
    assert (first.status, first.revisions_used, orders.revisions_remaining(first)) == (Status.IN_PROGRESS, 1, 0)
    assert first.deliver_by == "2026-11-25T13:00:00.000000Z" and first.auto_complete_at is None
    again = orders.deliver(first, "seller", later)
    with pytest.raises(RevisionsExhausted) as refused:
        orders.revision(again, "buyer", later, "even more")
    assert refused.value.extra == {"revisions_used": 1, "revisions_remaining": 0}


def test_the_buyer_cancels_a_pending_order_or_a_late_one_never_one_on_time() -> None:
    order = placed(days=1)
    assert orders.cancel(order, "buyer", NOW, None).status is Status.CANCELLED
    started = orders.start(order, "seller", NOW)
    with pytest.raises(InvalidTransition) as on_time:
        orders.cancel(started, "buyer", NOW + timedelta(hours=23), None)
    assert on_time.value.extra["deliver_by"] == started.deliver_by
    late = NOW + timedelta(days=1)
    assert orders.late(started, late) and orders.buyer_may_cancel(started, late)
    assert orders.cancel(started, "buyer", late, "too slow").status is Status.CANCELLED
    assert not orders.late(delivered(), late)  # a delivered order is not late, whatever the time


def test_either_party_disputes_in_progress_or_delivered_and_the_dispute_stops_the_timer() -> None:
    with pytest.raises(NotAParty):
        orders.dispute(delivered(), "stranger", NOW, "r")
    with pytest.raises(InvalidTransition):
        orders.dispute(placed(), "buyer", NOW, "r")  # a pending order is cancelled, not disputed
    disputed = orders.dispute(delivered(), "seller", NOW, "r")
    assert (disputed.status, disputed.dispute_from, disputed.disputed_by) == (Status.DISPUTED, "delivered", "seller")
    assert timer_of(disputed) is None


def test_a_split_refunds_the_buyers_part_and_pays_the_sellers_minus_its_fee() -> None:
    disputed = orders.dispute(delivered(), "buyer", NOW, "r")
    split = orders.resolve(disputed, "op", NOW, "split", 12, "note")
    assert (split.status, split.refunded, split.resolution) == (Status.COMPLETED, 12, "split")
    assert movements(disputed, split, 10) == [
        Movement("buyer", "refund", +12, -12),
        Movement("buyer", "payout", 0, -8),
        Movement("seller", "payout", 8),  # the fee of 8 at 10% rounds to 0
    ]
    assert sum(m.amount for m in movements(disputed, split, 10)) == 20  # the whole escrow, no more
    refund = orders.resolve(disputed, "op", NOW, "refund", None, "n")
    assert refund.status is Status.CANCELLED and movements(disputed, refund, 10) == [
        Movement("buyer", "refund", +20, -20)
    ]
    paid = orders.resolve(disputed, "op", NOW, "pay", None, "n")
    assert [m.amount for m in movements(disputed, paid, 10)] == [0, 18, 2]
    for bad in (0, 20, None):
        with pytest.raises(InvalidRequest):
            orders.resolve(disputed, "op", NOW, "split", bad, "n")
    with pytest.raises(InvalidTransition):
        orders.resolve(replace(disputed, status=Status.DELIVERED), "op", NOW, "pay", None, "n")
    for party in ("buyer", "seller"):  # an operator who is a party cannot settle its own dispute
        with pytest.raises(OwnDispute):
            orders.resolve(disputed, party, NOW, "pay", None, "n")


def test_the_summary_an_event_carries_leaves_the_bodies_out() -> None:
    shown = orders.summary(orders.dispute(delivered(), "buyer", NOW, "r" * 1000), NOW)
    assert shown["status"] == "disputed" and shown["dispute"]["opened_by"] == "buyer"  # type: ignore[index]
    assert "requirements" not in shown and "input" not in shown  # the bodies are the parties' to read
