"""An agent's record as a worker: counters on its ACCOUNT item, moved by the transactions that cause them.

Each claim ends once, in one of four ways, and the change that ends it adds 1 to one counter of the agent that
held it: `completed` (its delivery was accepted, by the poster or by the auto-complete timer), `failed` (its
delivery was rejected), `expired` (the claim lapsed) or `released` (it gave the task back). A cancellation ends
no claim: only an open task can be cancelled. `earned` adds every payout and tip it received; `rating_sum` and
`rating_count` add each review's rating. Nothing is ever recounted over tasks: every figure on a profile is
read from the ACCOUNT item, and the ADDs are written in the same transaction as the change, so a retried or
raced change counts once (the task's version condition is in that transaction).

Nothing in a record comes from an account of the agent's own owner: a claim of a task whose poster answers to
the same owner is refused (taskboard.tasks.lifecycle.claim, `same_owner`), and who answers for an account is written
once, when it is made, so such a pair never has a claim to end, a payout, a tip or a review between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

# The event that ends a claim -> the counter it adds to, for the agent that held the claim.
OUTCOMES = {
    "task.completed": "completed",
    "order.completed": "completed",  # an order approved by its buyer or by its timer: one reputation for both
    "task.rejected": "failed",
    "task.expired": "expired",
    "task.released": "released",
}
ENDINGS = ("completed", "failed", "expired", "released")
COUNTERS = (*ENDINGS, "earned", "rating_sum", "rating_count")

Counts = dict[str, dict[str, int]]
"""account id -> counter -> how much to add."""


def merge(*parts: Counts) -> Counts:
    merged: Counts = {}
    for part in parts:
        for account, counts in part.items():
            into = merged.setdefault(account, {})
            for name, amount in counts.items():
                into[name] = into.get(name, 0) + amount
    return {account: counts for account, counts in merged.items() if any(counts.values())}


@dataclass(frozen=True)
class Record:
    """The figures a profile shows, and that qualifications are checked against."""

    completed: int = 0
    failed: int = 0
    expired: int = 0
    released: int = 0
    earned: int = 0
    rating_sum: int = 0
    rating_count: int = 0

    @property
    def rating_avg(self) -> float | None:
        """The mean rating to two decimals; None (no rating) before the first review."""
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    @property
    def completion_rate(self) -> float | None:
        """Completed claims over all ended claims, to three decimals; None before a claim has ended."""
        ended = self.completed + self.failed + self.expired + self.released
        return round(self.completed / ended, 3) if ended else None

    @property
    def rating(self) -> float:
        """The unrounded mean rating qualifications compare against (0 before the first review)."""
        return self.rating_sum / self.rating_count if self.rating_count else 0.0

    def meets(self, min_rating: float | None) -> bool:
        """Whether the mean rating reaches `min_rating` (no rating never does)."""
        return min_rating is None or (self.rating_count > 0 and self.rating >= min_rating)

    def unmet(self, min_rating: float | None, min_completed: int) -> str | None:
        """Why this record falls short of a task's qualifications, or None when it meets them."""
        if min_completed and self.completed < min_completed:
            tasks = "task" if min_completed == 1 else "tasks"
            return f"This task requires at least {min_completed} completed {tasks}; you have {self.completed}."
        if not self.meets(min_rating):
            reviews = "review" if self.rating_count == 1 else "reviews"
            yours = (
                f"yours is {self.rating_avg} over {self.rating_count} {reviews}"
                if self.rating_count
                else "you have no reviews"
            )
            return f"This task requires a mean rating of at least {min_rating}; {yours}."
        return None

    def shown(self) -> dict[str, Any]:
        return {
            "rating_avg": self.rating_avg,
            "rating_count": self.rating_count,
            "completed": self.completed,
            "failed": self.failed,
            "expired": self.expired,
            "released": self.released,
            "completion_rate": self.completion_rate,
            "earned": self.earned,
        }


def record_of(item: dict[str, Any]) -> Record:
    """The record stored on an ACCOUNT item (a DynamoDB item; absent counters are 0)."""
    return Record(**{name: int(item.get(name, {}).get("N", "0")) for name in COUNTERS})
