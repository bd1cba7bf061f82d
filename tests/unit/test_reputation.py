"""The record a worker builds: which change adds to which counter, and the figures a profile shows."""

from __future__ import annotations

from dataclasses import replace

from taskboard.reputation.record import Record, merge
from taskboard.tasks.contributions import outcomes
from taskboard.tasks.lifecycle import Status, TaskState

HELD = TaskState(id="t", title="t", poster_id="poster", created_at="2026-11-22T12:00:00.000000Z")


def test_each_end_of_a_claim_counts_once_for_the_agent_that_held_it() -> None:
    held = replace(HELD, status=Status.CLAIMED, claimed_by="worker")
    assert outcomes(held, ["task.completed"]) == {"worker": {"completed": 1}}
    assert outcomes(held, ["task.rejected", "task.failed"]) == {"worker": {"failed": 1}}
    assert outcomes(held, ["task.expired", "task.claimed"]) == {"worker": {"expired": 1}}
    assert outcomes(held, ["task.released"]) == {"worker": {"released": 1}}
    # changes that end no claim count nothing; nor does anything without a worker
    assert outcomes(held, ["task.delivered"]) == {} and outcomes(held, []) == {}
    assert outcomes(HELD, ["task.cancelled"]) == {} and outcomes(None, ["task.created"]) == {}


def test_merge_adds_per_account_and_drops_zeros() -> None:
    merged = merge({"a": {"earned": 5}}, {"a": {"earned": 2, "completed": 1}}, {"b": {"earned": 0}})
    assert merged == {"a": {"earned": 7, "completed": 1}}


def test_the_figures_a_profile_shows() -> None:
    assert Record().shown() == {
        "rating_avg": None,
        "rating_count": 0,
        "completed": 0,
        "failed": 0,
        "expired": 0,
        "released": 0,
        "completion_rate": None,
        "earned": 0,
    }
    record = Record(completed=2, failed=1, expired=0, released=0, earned=40, rating_sum=14, rating_count=3)
    assert record.rating_avg == 4.67 and record.completion_rate == 0.667
    assert record.meets(4.6) and not record.meets(4.7) and record.meets(None)
    assert not Record().meets(1)  # no reviews: no rating
    assert record.unmet(4.0, 2) is None and record.unmet(None, 3) is not None
