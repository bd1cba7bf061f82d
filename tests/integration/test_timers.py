"""Timers on moto: the firing handlers with a controlled clock, their races with the API, starting timers from
the stream, and the template's own state machine definitions executing with short waits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from local.stack import LambdaContext, Stack
from taskboard.core.clock import from_iso, utc_now
from taskboard.core.errors import BoardError, TimerFiredEarly
from taskboard.runtime import board
from taskboard.tasks.items import StoredTask
from taskboard.tasks.service import TaskBoard
from taskboard.tasks.store import TaskRepository
from taskboard.tasks.timers import Bucket, TimerKind
from tests.support import Agent, Api, FrozenClock


def fire(stack: Stack, task: dict[str, Any], deadline_field: str) -> dict[str, int]:
    """Invoke the firing function as the bucket's execution would, for the bucket of the task's deadline, and
    return how many of the bucket's deadlines ended in each outcome."""
    spec = stack.functions["FireTimersFunction"]
    bucket = Bucket.of(from_iso(task[deadline_field])).iso
    answer = stack.module(spec).handler({"bucket": bucket, "fire_at": bucket}, LambdaContext(spec))
    assert answer["bucket"] == bucket
    return dict(answer["outcomes"])


def event_types(task_id: str) -> list[str]:
    return [event["type"] for event in board().events(task_id)]


# ---- the firing handlers, with a controlled clock ----


def test_expiry_reopens_the_task_and_records_the_event(
    stack: Stack, api: Api, clock: FrozenClock, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, timeout_seconds=60)
    claimed = api.post(f"/tasks/{task['id']}/claim", key=worker.key).json()
    clock.advance(60)
    assert fire(stack, claimed, "expires_at") == {"open": 1}
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "open"
    events = board().events(task["id"])
    assert [e["type"] for e in events] == ["task.created", "task.claimed", "task.expired"]
    assert [e["data"]["sequence"] for e in events] == [1, 2, 3]
    assert events[-1]["data"]["cause"] == "timeout" and events[-1]["data"]["task"]["status"] == "open"
    assert "input" not in events[-1]["data"]["task"]  # payloads stay small


def test_expiry_of_the_last_attempt_fails_the_task(
    stack: Stack, api: Api, clock: FrozenClock, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, timeout_seconds=30, max_attempts=1)
    claimed = api.post(f"/tasks/{task['id']}/claim", key=worker.key).json()
    clock.advance(31)
    assert fire(stack, claimed, "expires_at") == {"failed": 1}
    assert event_types(task["id"])[-2:] == ["task.expired", "task.failed"]


def test_a_timer_superseded_by_a_heartbeat_does_nothing_and_records_nothing(
    stack: Stack, api: Api, clock: FrozenClock, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, timeout_seconds=60)
    claimed = api.post(f"/tasks/{task['id']}/claim", key=worker.key).json()
    clock.advance(30)
    api.post(f"/tasks/{task['id']}/heartbeat", key=worker.key)
    clock.advance(31)  # past the first deadline, not the extended one
    before = event_types(task["id"])
    assert fire(stack, claimed, "expires_at") == {}  # the heartbeat took the first deadline out of the index
    deadline = claimed["expires_at"]
    assert board().fire_timer(TimerKind.CLAIM_EXPIRY, task["id"], 1, deadline) == "noop"  # and were it fired
    assert event_types(task["id"]) == before
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "claimed"


def test_a_timer_woken_early_raises_for_its_state_machine_to_retry(
    stack: Stack, api: Api, clock: FrozenClock, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, timeout_seconds=60)
    claimed = api.post(f"/tasks/{task['id']}/claim", key=worker.key).json()
    clock.advance(58)
    with pytest.raises(TimerFiredEarly):
        fire(stack, claimed, "expires_at")
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "claimed"


def test_auto_complete_completes_an_untouched_delivery_and_leaves_a_handled_one(
    stack: Stack, api: Api, clock: FrozenClock, poster: Agent, worker: Agent
) -> None:
    untouched, handled = (
        api.post_task(poster, auto_complete_seconds=60),
        api.post_task(poster, auto_complete_seconds=60),
    )
    delivered = {}
    for task in (untouched, handled):
        api.post(f"/tasks/{task['id']}/claim", key=worker.key)
        delivered[task["id"]] = api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key).json()
    api.post(f"/tasks/{handled['id']}/reject", key=poster.key)
    clock.advance(60)
    assert fire(stack, delivered[untouched["id"]], "auto_complete_at") == {"completed": 1}  # the rejected one left
    assert (
        board().fire_timer(TimerKind.AUTO_COMPLETE, handled["id"], 1, delivered[handled["id"]]["auto_complete_at"])
        == "noop"
    )
    (completed,) = [e for e in board().events(untouched["id"]) if e["type"] == "task.completed"]
    assert completed["data"]["cause"] == "auto"
    assert "task.completed" not in event_types(handled["id"])


# ---- races: exactly one outcome, never both, never neither ----


class LockstepRepository(TaskRepository):
    """Lets two racers read the same version of a task before either writes: the worst interleaving."""

    def __init__(self, table: str, barrier: threading.Barrier) -> None:
        super().__init__(table)
        self.barrier = barrier
        self.first_read = threading.local()

    def load(self, task_id: str) -> StoredTask | None:
        stored = super().load(task_id)
        if not getattr(self.first_read, "done", False):
            self.first_read.done = True
            self.barrier.wait(timeout=10)
        return stored


def race(
    one: Callable[[TaskBoard], object], other: Callable[[TaskBoard], object], clocks: tuple[Any, Any]
) -> list[str]:
    barrier = threading.Barrier(2)
    repository = LockstepRepository(board().tasks.table, barrier)

    def run(action: Callable[[TaskBoard], object], clock: Any) -> str:
        try:
            answer = action(TaskBoard(repository, clock=clock))
        except BoardError as error:
            return error.code
        return answer if isinstance(answer, str) else "ok"

    with ThreadPoolExecutor(2) as pool:
        return [f.result() for f in [pool.submit(run, one, clocks[0]), pool.submit(run, other, clocks[1])]]


@pytest.mark.parametrize("round_", range(4))
def test_delivery_racing_the_expiry_ends_in_exactly_one_of_them(
    api: Api, clock: FrozenClock, poster: Agent, worker: Agent, round_: int
) -> None:
    from taskboard.tasks.models import DeliverRequest

    task = api.post_task(poster, timeout_seconds=60)
    claimed = api.post(f"/tasks/{task['id']}/claim", key=worker.key).json()
    deadline = claimed["expires_at"]
    before, after = FrozenClock(clock.moment + timedelta(seconds=59)), FrozenClock(clock.moment + timedelta(seconds=61))

    def deliver(b: TaskBoard) -> object:
        return b.deliver(task["id"], worker.id, DeliverRequest(result="done"))

    def expire(b: TaskBoard) -> object:
        return b.fire_timer(TimerKind.CLAIM_EXPIRY, task["id"], 1, deadline)

    outcomes = race(deliver, expire, (before, after)) if round_ % 2 else race(expire, deliver, (after, before))
    final = api.get(f"/tasks/{task['id']}").json()
    types = event_types(task["id"])
    if final["status"] == "delivered":
        assert sorted(outcomes) == ["noop", "ok"] and "task.expired" not in types
    else:
        assert final["status"] == "open" and sorted(outcomes) == ["open", "stale_claim"]
        assert "task.delivered" not in types and types.count("task.expired") == 1


@pytest.mark.parametrize("poster_action", ["complete", "reject"])
def test_the_poster_racing_the_auto_complete_ends_in_exactly_one_of_them(
    api: Api, clock: FrozenClock, poster: Agent, worker: Agent, poster_action: str
) -> None:
    task = api.post_task(poster, auto_complete_seconds=60)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    delivered = api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key).json()
    late = FrozenClock(clock.moment + timedelta(seconds=61))

    def act(b: TaskBoard) -> object:
        return (
            getattr(b, poster_action)(task["id"], poster.id)
            if poster_action == "complete"
            else b.reject(task["id"], poster.id, "no")
        )

    def auto(b: TaskBoard) -> object:
        return b.fire_timer(TimerKind.AUTO_COMPLETE, task["id"], 1, delivered["auto_complete_at"])

    outcomes = race(act, auto, (late, late))
    types = event_types(task["id"])
    decisive = [t for t in types if t in ("task.completed", "task.rejected")]
    assert len(decisive) == 1, types
    assert "ok" in outcomes or "completed" in outcomes
    assert outcomes.count("noop") + outcomes.count("invalid_transition") == 1, outcomes


# ---- starting timers from the stream ----


def test_a_redelivered_stream_record_starts_its_bucket_once_and_a_bucket_is_shared(
    stack: Stack, api: Api, poster: Agent, worker: Agent, clock: FrozenClock
) -> None:
    from taskboard.runtime import scheduler
    from taskboard.tasks.timers import timers_implied

    tasks = [api.post_task(poster), api.post_task(poster)]
    for task in tasks:  # the same instant: both deadlines fall in one bucket
        api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    state = board().tasks.load(tasks[0]["id"])
    assert state is not None
    (timer,) = timers_implied(None, state.state)
    first = scheduler().start(timer, utc_now())  # the stream already started it, too: running, same input
    again = scheduler().start(timer, utc_now())
    assert first == again == [timer.bucket.execution()[0]]
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(
        stateMachineArn=stack.names["DueTimersStateMachine"]
    )["executions"]
    assert [e["name"] for e in executions] == [timer.bucket.execution()[0]]  # one for both deadlines
    listed = board().tasks.due(timer.bucket).timers
    assert sorted(t.task_id for t in listed) == sorted(task["id"] for task in tasks)


def test_one_failing_record_does_not_fail_its_batch(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from local.template import ROOT
    from taskboard.tasks import scheduler, timers

    good = json.loads((ROOT / "events/on_task_change.json").read_text())["Records"][0]
    bad = json.loads(json.dumps(good))
    bad["dynamodb"]["SequenceNumber"] = "222"
    bad["dynamodb"]["NewImage"]["id"] = {"S": "11111111-1111-4111-8111-111111111111"}
    original = scheduler.TimerScheduler.start

    def start(self: scheduler.TimerScheduler, timer: timers.Timer, now: datetime) -> list[str]:
        if timer.task_id.startswith("1111"):
            raise RuntimeError("Step Functions is unavailable")
        return original(self, timer, now)

    monkeypatch.setattr(scheduler.TimerScheduler, "start", start)
    spec = stack.functions["OnTaskChangeFunction"]
    answer = stack.module(spec).handler({"Records": [bad, good]}, LambdaContext(spec))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "222"}]}


# ---- the template's state machines, executed by moto, with short waits ----


def wait_for(predicate: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s")


def shifted(seconds: float) -> Callable[[], datetime]:
    return lambda: utc_now() + timedelta(seconds=seconds)


def test_a_claim_left_alone_expires_through_its_state_machine(
    stack: Stack, api: Api, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, timeout_seconds=30, max_attempts=2)
    board().clock = shifted(-28)  # the claim is made "28 s ago": it lapses ~2 s from now
    claimed = api.post(f"/tasks/{task['id']}/claim", key=worker.key).json()
    board().clock = utc_now
    wait_for(lambda: "task.expired" in event_types(task["id"]), 10)
    stored = board().tasks.load(task["id"])
    assert stored is not None and stored.state.status == "open"  # written, not only read as open
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    (execution,) = sfn.list_executions(stateMachineArn=stack.names["DueTimersStateMachine"])["executions"]
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["output"])["outcomes"] == {
        "open": 1
    }
    assert claimed["expires_at"] <= board().events(task["id"])[-1]["timestamp"]


def test_a_delivery_left_alone_completes_through_its_state_machine(
    stack: Stack, api: Api, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, auto_complete_seconds=30)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    board().clock = shifted(-28)
    api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key)
    board().clock = utc_now
    wait_for(lambda: "task.completed" in event_types(task["id"]), 10)
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "completed"
    assert stack.pollers and all(p.errors == [] for p in stack.pollers)


def test_events_name_the_worker_they_concern_even_after_it_lost_the_claim(
    api: Api, clock: FrozenClock, poster: Agent, worker: Agent
) -> None:
    """The outbox items carry the poster and the worker involved, so a per-account feed can reach both."""
    task = api.post_task(poster, max_attempts=2)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key)
    api.post(f"/tasks/{task['id']}/reject", key=poster.key)
    items = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=board().tasks.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :events)",
        ExpressionAttributeValues={":pk": {"S": f"TASK#{task['id']}"}, ":events": {"S": "EVENT#"}},
    )["Items"]
    concerned = {item["type"]["S"]: (item["feed_poster"]["S"], item.get("feed_worker", {}).get("S")) for item in items}
    assert concerned == {
        "task.created": (poster.id, None),
        "task.claimed": (poster.id, worker.id),
        "task.delivered": (poster.id, worker.id),
        "task.rejected": (poster.id, worker.id),
    }


# ---- a bucket: many deadlines, one execution ----


def test_every_deadline_of_a_bucket_fires_through_one_execution_never_early(
    stack: Stack, api: Api, poster: Agent, worker: Agent
) -> None:
    tasks = [api.post_task(poster, timeout_seconds=30, max_attempts=2) for _ in range(12)]
    board().clock = shifted(-27)  # claimed "27 s ago", within the same instant: their expiries share a bucket
    claims = [api.post(f"/tasks/{task['id']}/claim", key=worker.key).json() for task in tasks]
    board().clock = utc_now
    assert len({Bucket.of(from_iso(claim["expires_at"])) for claim in claims}) <= 2
    wait_for(lambda: all("task.expired" in event_types(task["id"]) for task in tasks), 15)
    for task, claim in zip(tasks, claims, strict=True):
        (expired,) = [e for e in board().events(task["id"]) if e["type"] == "task.expired"]
        lateness = (from_iso(expired["timestamp"]) - from_iso(claim["expires_at"])).total_seconds()
        assert 0 <= lateness <= 10, lateness  # never early; within its bucket and the firing
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    executions = sfn.list_executions(stateMachineArn=stack.names["DueTimersStateMachine"])["executions"]
    assert 1 <= len(executions) <= 2  # one per bucket, not one per deadline


class ShortContext:
    """A Lambda context with little time left: the firing must stop and let its state machine run it again."""

    def __init__(self, seconds: list[float]) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.seconds.pop(0) if len(self.seconds) > 1 else self.seconds[0]) * 1000)


def test_a_firing_out_of_time_stops_and_the_next_run_fires_the_rest(
    stack: Stack, api: Api, clock: FrozenClock, poster: Agent, worker: Agent
) -> None:
    from taskboard.core.errors import DeadlinesLeft
    from taskboard.entry.timers import fire_bucket

    tasks = [api.post_task(poster, timeout_seconds=60) for _ in range(5)]
    claims = [api.post(f"/tasks/{task['id']}/claim", key=worker.key).json() for task in tasks]
    clock.advance(61)
    bucket = Bucket.of(from_iso(claims[0]["expires_at"]))
    left = ShortContext([60, 60, 1])  # time for two deadlines, then under the reserve
    with pytest.raises(DeadlinesLeft):
        fire_bucket(bucket, lambda: left.get_remaining_time_in_millis() / 1000)
    assert sum("task.expired" in event_types(task["id"]) for task in tasks) == 2
    assert len(board().tasks.due(bucket).timers) == 3  # what was fired left the index
    assert fire_bucket(bucket, lambda: 60.0) == {"open": 3}
    assert all(event_types(task["id"]).count("task.expired") == 1 for task in tasks)


def test_one_failing_deadline_does_not_hold_up_the_rest_of_its_bucket(
    stack: Stack, api: Api, clock: FrozenClock, poster: Agent, worker: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskboard.core.errors import TimersFailed
    from taskboard.entry.timers import fire_bucket

    tasks = [api.post_task(poster, timeout_seconds=60) for _ in range(3)]
    claims = [api.post(f"/tasks/{task['id']}/claim", key=worker.key).json() for task in tasks]
    clock.advance(61)
    original, broken = TaskBoard.fire_timer, tasks[0]["id"]

    def fire_timer(self: TaskBoard, kind: TimerKind, task_id: str, attempt: int, deadline: str) -> str:
        if task_id == broken:
            raise RuntimeError("DynamoDB is unavailable")
        return original(self, kind, task_id, attempt, deadline)

    monkeypatch.setattr(TaskBoard, "fire_timer", fire_timer)
    bucket = Bucket.of(from_iso(claims[0]["expires_at"]))
    with pytest.raises(TimersFailed):
        fire_bucket(bucket, lambda: 60.0)
    assert [("task.expired" in event_types(task["id"])) for task in tasks] == [False, True, True]
    monkeypatch.setattr(TaskBoard, "fire_timer", original)
    assert fire_bucket(bucket, lambda: 60.0) == {"open": 1}  # the state machine's retry fires what is left
