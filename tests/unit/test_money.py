"""The credit rules as pure functions: what a change of a task's state, or a tip, moves."""

from __future__ import annotations

from taskboard.money.rules import PLATFORM, Movement, earnings, fee_of, tip


def test_a_tip_pays_the_platform_fee_like_a_budget() -> None:
    # a tip of 25 at 10%: the poster pays 25, the worker gets 23, the platform 2 (a budget of 25 pays the same)
    assert tip("poster", "worker", 25, 10) == [
        Movement("poster", "tip", -25),
        Movement("worker", "tip", 23),
        Movement(PLATFORM, "tip", 2),
    ]
    assert fee_of(25, 10) == 2
    # a tip whose fee rounds down to 0 moves straight across; no tip moves nothing
    assert tip("poster", "worker", 9, 10) == [Movement("poster", "tip", -9), Movement("worker", "tip", 9)]
    assert tip("poster", "worker", 0, 10) == []
    # and every movement adds to zero: a tip creates or destroys no credit
    for amount in (1, 9, 10, 25, 999, 1_000_000):
        for percent in (0, 10, 33, 100):
            assert sum(move.amount for move in tip("p", "w", amount, percent)) == 0


def test_earned_counts_what_the_worker_received_not_the_platforms_share() -> None:
    assert earnings(tip("poster", "worker", 25, 10)) == {"worker": {"earned": 23}}


def test_a_review_contributes_its_rating_and_its_tip_in_one_contribution() -> None:
    from taskboard.tasks.contributions import Contribution, of_review

    assert of_review("poster", "worker", 4, 25, 10) == Contribution(
        moves=(Movement("poster", "tip", -25), Movement("worker", "tip", 23), Movement(PLATFORM, "tip", 2)),
        counts={"worker": {"rating_sum": 4, "rating_count": 1}},
    )
    assert of_review("poster", "worker", 5, 0, 10).moves == ()
