"""What a change of a task's state contributes beside the state itself: the credits it moves (escrow, payout and
fee, refund) and the counters it adds to the record of the worker whose claim it ends. Pure rules, no I/O: the
writer (taskboard.money.purse.Purse.actions) turns both into the account updates of the change's one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

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
        fee = fee_of(budget, fee_percent)
        paid = [Movement(after.poster_id, "payout", 0, -budget), Movement(after.claimed_by, "payout", budget - fee)]
        return paid + ([Movement(PLATFORM, "fee", fee)] if fee else [])
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
