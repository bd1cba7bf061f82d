"""Which timers a change implies, when they fire, and which domain events each change records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from taskboard.core.clock import to_iso
from taskboard.core.errors import TimerFiredEarly
from taskboard.tasks import lifecycle
from taskboard.tasks.lifecycle import Status, TaskState, events_between
from taskboard.tasks.scheduler import TimerScheduler
from taskboard.tasks.timers import Bucket, Timer, TimerKind, due_from_keys, timers_implied

NOW = datetime(2026, 11, 22, 12, 0, 0, 250_000, tzinfo=UTC)
POSTER, WORKER, OTHER = "poster", "worker", "other"


def a_task(**changes: object) -> TaskState:
    base = TaskState(id="0f8fad5b-d9cb-469f-a165-70867728950e", title="t", poster_id=POSTER, created_at=to_iso(NOW))
    return replace(base, timeout_seconds=60, **changes)  # type: ignore[arg-type]


def types(before: TaskState | None, after: TaskState, now: datetime = NOW, cause: str | None = None) -> list[str]:
    return [e.type + (f":{e.cause}" if e.cause else "") for e in events_between(before, after, now, cause)]


# ---- timers implied by a change ----


def test_a_claim_implies_an_expiry_timer_at_its_deadline() -> None:
    claimed = lifecycle.claim(a_task(), WORKER, NOW)
    assert timers_implied(a_task(), claimed) == [Timer(TimerKind.CLAIM_EXPIRY, claimed.id, 1, claimed.expires_at or "")]


def test_a_heartbeat_implies_a_new_timer_and_an_unchanged_claim_none() -> None:
    claimed = lifecycle.claim(a_task(), WORKER, NOW)
    beat = lifecycle.heartbeat(claimed, WORKER, NOW + timedelta(seconds=30))
    (timer,) = timers_implied(claimed, beat)
    assert timer.deadline == beat.expires_at != claimed.expires_at
    assert timers_implied(claimed, claimed) == []


def test_a_delivery_implies_an_auto_complete_timer_and_the_end_states_none() -> None:
    delivered = lifecycle.deliver(lifecycle.claim(a_task(), WORKER, NOW), WORKER, NOW)
    (timer,) = timers_implied(lifecycle.claim(a_task(), WORKER, NOW), delivered)
    assert timer.kind is TimerKind.AUTO_COMPLETE and timer.deadline == delivered.auto_complete_at
    assert timers_implied(delivered, lifecycle.complete(delivered, POSTER, NOW)) == []
    assert timers_implied(delivered, lifecycle.reject(delivered, POSTER, NOW)) == []
    assert timers_implied(None, a_task()) == []


def test_a_deadline_falls_in_the_bucket_that_ends_at_or_after_it_never_before() -> None:
    timer = Timer(TimerKind.AUTO_COMPLETE, a_task().id, 10, "2026-11-22T12:00:00.250000Z")
    assert timer.bucket.iso == "2026-11-22T12:00:05Z"
    on_the_end = Timer(TimerKind.CLAIM_EXPIRY, "x", 1, "2026-11-22T12:00:05.000000Z")
    assert on_the_end.bucket == timer.bucket  # a deadline exactly on a bucket's end belongs to that bucket
    assert Timer(TimerKind.CLAIM_EXPIRY, "x", 1, "2026-11-22T12:00:05.000001Z").bucket.iso == "2026-11-22T12:00:10Z"
    assert Bucket.named(timer.index_keys()["due_pk"]) == timer.bucket
    assert timer.index_keys() == {
        "due_pk": "DUE#2026-11-22T12:00:05Z",
        "due_sk": "2026-11-22T12:00:00.250000Z#autocomplete#10",
    }
    # what the bucket's firing reads back from the index (keys only) is the timer itself
    listed = {"pk": {"S": f"TASK#{timer.task_id}"}, **{k: {"S": v} for k, v in timer.index_keys().items()}}
    assert due_from_keys(listed) == timer


def test_a_bucket_has_one_execution_with_a_short_stable_name() -> None:
    bucket = Bucket.named("2026-11-22T12:00:05Z")
    name, payload = bucket.execution()
    assert (name, payload) == (
        "due-20261122T120005Z",
        {"bucket": "2026-11-22T12:00:05Z", "fire_at": "2026-11-22T12:00:05Z"},
    )
    late_name, late = bucket.execution(fire_at=Bucket.named("2026-11-22T12:00:15Z"))
    assert late_name == "due-20261122T120005Z-at-20261122T120015Z" and len(late_name) <= 80
    assert late == {"bucket": "2026-11-22T12:00:05Z", "fire_at": "2026-11-22T12:00:15Z"}


def test_a_bucket_ending_within_the_margin_is_read_again_later() -> None:
    scheduler = TimerScheduler("arn:aws:states:us-east-1:123456789012:stateMachine:Due", margin_seconds=5)
    timer = Timer(TimerKind.CLAIM_EXPIRY, "x", 1, "2026-11-22T12:00:03.000000Z")  # bucket ends 12:00:05
    early = datetime(2026, 11, 22, 11, 59, 50, tzinfo=UTC)
    assert [name for name, _ in scheduler.executions_for(timer, early)] == ["due-20261122T120005Z"]
    close = datetime(2026, 11, 22, 12, 0, 1, tzinfo=UTC)  # 4 s before the end: its index entry may not show yet
    names = [name for name, _ in scheduler.executions_for(timer, close)]
    assert names == ["due-20261122T120005Z", "due-20261122T120005Z-at-20261122T120010Z"]
    past = datetime(2026, 11, 22, 12, 7, 0, tzinfo=UTC)  # a stream record read late: the bucket fired already
    (_, (_, late_input)) = scheduler.executions_for(timer, past)
    assert late_input["bucket"] == "2026-11-22T12:00:05Z" and late_input["fire_at"] == "2026-11-22T12:07:05Z"
    assert TimerScheduler("arn", margin_seconds=0).executions_for(timer, close) == [timer.bucket.execution()]


# ---- firing ----


def test_expiry_fires_only_for_the_claim_and_deadline_it_was_started_for() -> None:
    claimed = lifecycle.claim(a_task(max_attempts=2), WORKER, NOW)
    deadline = claimed.expires_at or ""
    after = NOW + timedelta(seconds=61)
    fired = lifecycle.expire(claimed, 1, deadline, after)
    assert fired is not None and fired.status is Status.OPEN and fired.version == claimed.version + 1
    assert lifecycle.expire(claimed, 2, deadline, after) is None  # another attempt's timer
    beat = lifecycle.heartbeat(claimed, WORKER, NOW + timedelta(seconds=30))
    assert lifecycle.expire(beat, 1, deadline, after) is None  # the heartbeat moved the deadline
    delivered = lifecycle.deliver(claimed, WORKER, NOW + timedelta(seconds=1))
    assert lifecycle.expire(delivered, 1, deadline, after) is None
    with pytest.raises(TimerFiredEarly):
        lifecycle.expire(claimed, 1, deadline, NOW + timedelta(seconds=59))


def test_expiry_on_the_last_attempt_fails_the_task() -> None:
    claimed = lifecycle.claim(a_task(max_attempts=1), WORKER, NOW)
    fired = lifecycle.expire(claimed, 1, claimed.expires_at or "", NOW + timedelta(hours=1))
    assert fired is not None and fired.status is Status.FAILED


def test_auto_complete_fires_only_for_an_untouched_delivery() -> None:
    delivered = lifecycle.deliver(lifecycle.claim(a_task(), WORKER, NOW), WORKER, NOW)
    deadline = delivered.auto_complete_at or ""
    later = NOW + timedelta(days=2)
    fired = lifecycle.auto_complete(delivered, 1, deadline, later)
    assert fired is not None and fired.status is Status.COMPLETED
    assert lifecycle.auto_complete(lifecycle.complete(delivered, POSTER, NOW), 1, deadline, later) is None
    assert lifecycle.auto_complete(lifecycle.reject(delivered, POSTER, NOW), 1, deadline, later) is None
    with pytest.raises(TimerFiredEarly):
        lifecycle.auto_complete(delivered, 1, deadline, NOW)


# ---- events ----


def test_each_transition_records_its_events() -> None:
    task = a_task(max_attempts=2)
    claimed = lifecycle.claim(task, WORKER, NOW)
    delivered = lifecycle.deliver(claimed, WORKER, NOW)
    assert types(None, task) == ["task.created"]
    assert types(task, claimed) == ["task.claimed"]
    assert types(claimed, lifecycle.heartbeat(claimed, WORKER, NOW)) == []
    assert types(claimed, lifecycle.release(claimed, WORKER, NOW)) == ["task.released:worker"]
    assert types(claimed, delivered) == ["task.delivered"]
    assert types(delivered, lifecycle.complete(delivered, POSTER, NOW)) == ["task.completed:poster"]
    assert types(delivered, lifecycle.complete(delivered, POSTER, NOW), cause="auto") == ["task.completed:auto"]
    assert types(delivered, lifecycle.reject(delivered, POSTER, NOW)) == ["task.rejected:poster"]
    assert types(task, lifecycle.cancel(task, POSTER, NOW)) == ["task.cancelled:poster"]


def test_the_last_attempt_ending_records_the_failure_too() -> None:
    claimed = lifecycle.claim(a_task(max_attempts=1), WORKER, NOW)
    delivered = lifecycle.deliver(claimed, WORKER, NOW)
    assert types(claimed, lifecycle.release(claimed, WORKER, NOW)) == [
        "task.released:worker",
        "task.failed:max_attempts",
    ]
    assert types(delivered, lifecycle.reject(delivered, POSTER, NOW)) == [
        "task.rejected:poster",
        "task.failed:max_attempts",
    ]


def test_a_lapse_is_recorded_whoever_notices_it() -> None:
    claimed = lifecycle.claim(a_task(max_attempts=2), WORKER, NOW)
    later = NOW + timedelta(seconds=61)
    # the timer
    fired = lifecycle.expire(claimed, 1, claimed.expires_at or "", later)
    assert fired is not None and types(claimed, fired, later) == ["task.expired:timeout"]
    # or the next claim, before any timer: the expiry is recorded before the new claim
    assert types(claimed, lifecycle.claim(claimed, OTHER, later), later) == ["task.expired:timeout", "task.claimed"]
