"""What a change of a task's state contributes beside the state itself: the credits it moves (escrow, payout and
fee, refund) and the counters it adds to the record of the worker whose claim it ends. Pure rules, no I/O: the
writer (taskboard.money.purse.Purse.actions) turns both into the account updates of the change's one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from taskboard.money import rules as money
from taskboard.money.rules import PLATFORM, Movement, fee_of
from taskboard.reputation.record import OUTCOMES, Counts
from taskboard.tasks.lifecycle import Status, TaskState


def movements(before: TaskState | None, after: TaskState, fee_percent: int) -> list[Movement]:
    """What a change of a task's state moves. Only the first arrival in a final status moves anything."""
    budget = after.budget
    if budget <= 0:
        return []
    if before is None:
        return [Movement(after.poster_id, "escrow", -budget, +budget)]
    if before.status is after.status:
        return []
    if after.status is Status.COMPLETED and after.claimed_by:
        # all of the escrow, or for an order whose dispute was split, what the buyer did not get back
        refunded = min(max(after.refunded, 0), budget)
        pay = budget - refunded
        fee = fee_of(pay, fee_percent)
        back = [Movement(after.poster_id, "refund", +refunded, -refunded)] if refunded else []
        paid = [Movement(after.poster_id, "payout", 0, -pay), Movement(after.claimed_by, "payout", pay - fee)]
        return back + paid + ([Movement(PLATFORM, "fee", fee)] if fee else [])
    if after.status in (Status.CANCELLED, Status.FAILED):
        return [Movement(after.poster_id, "refund", +budget, -budget)]
    return []


def outcomes(before: TaskState | None, event_types: Iterable[str]) -> Counts:
    """What a change adds to the record of the worker whose claim it ends (nothing if it ends none)."""
    if before is None or before.claimed_by is None:
        return {}
    counts: dict[str, int] = {}
    for event_type in event_types:
        if event_type in OUTCOMES:
            counts[OUTCOMES[event_type]] = counts.get(OUTCOMES[event_type], 0) + 1
    return {before.claimed_by: counts} if counts else {}


@dataclass(frozen=True)
class Contribution:
    """What one change adds beside the task's own items: the credits it moves and the counters it adds to
    records. The change's writer (taskboard.money.purse.Purse.actions, in the task's own transaction) turns it
    into one update per account and the ledger entries."""

    moves: tuple[Movement, ...] = ()
    counts: Counts = field(default_factory=dict)


def of_change(before: TaskState | None, after: TaskState, event_types: Iterable[str], fee_percent: int) -> Contribution:
    """A change of state (a post, a claim, a delivery, a completion, ...): its movements, and the outcome it adds
    to the record of the worker whose claim it ends."""
    return Contribution(tuple(movements(before, after, fee_percent)), outcomes(before, event_types))


def of_review(poster: str, worker: str, rating: int, tip: int, fee_percent: int) -> Contribution:
    """A review: the rating added to the worker's record, and the tip (minus the fee) moved to it."""
    return Contribution(
        tuple(money.tip(poster, worker, tip, fee_percent)), {worker: {"rating_sum": rating, "rating_count": 1}}
    )
