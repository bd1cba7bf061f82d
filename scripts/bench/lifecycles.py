"""Section 5's measurement: one task lifecycle at a time on the local stack, its deadlines brought ~2 s near,
counting every Lambda invocation, Step Functions execution and DynamoDB request until its timers are done."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local.stack import REGION, ProxyResponse, Stack
from scripts.bench import layer
from scripts.bench.api import RESULT, BenchApi
from scripts.bench.capacity import Call, analyze
from scripts.bench.indexes import IndexWrites
from scripts.bench.recorder import Recorder
from tests.support import Agent, FrozenClock

TIMER_SECONDS = 30  # the shortest timeout_seconds / auto_complete_seconds the API accepts
TIMER_LEAD = 2  # a claim's expiry arrives this long after the lifecycle's calls; a delivery's auto-complete 1 s later
QUIET_SECONDS = 0.6  # no execution running and no Lambda invoked for this long: the lifecycle is over
STREAM_FUNCTION = "OnTaskChangeFunction"
TIMER_FUNCTIONS = ("FireTimersFunction",)
# The webhook pipeline reads the same stream; this section leaves it out (the README prices it per delivery).
WEBHOOK_FUNCTIONS = ("OnTaskEventFunction", "DeliverWebhookFunction")
STATE_MACHINES = {"DueTimersStateMachine": "DueTimers"}


@dataclass(frozen=True)
class Invocation:
    function: str
    ms: float
    records: int = 0  # stream records in the event (OnTaskChangeFunction)


class Invocations:
    """Every Lambda invocation of the stack, timed: API requests (through `run`, from the bench's client) and what
    state machines and the stream poller invoke (Stack.call_function, wrapped before the stack starts)."""

    def __init__(self, stack: Stack) -> None:
        self.log: list[Invocation] = []
        self._lock = threading.Lock()
        self._running = 0
        self._last = time.monotonic()
        self._current = threading.local()
        invoke = stack.call_function

        def counted(spec: Any, event: Any) -> Any:
            records = len(event.get("Records") or []) if isinstance(event, dict) else 0
            return self.run(spec.logical_id, lambda: invoke(spec, event), records)

        # An instance attribute: start() hands it to the stream pollers and to moto's Lambda (the state machines).
        stack.call_function = counted  # type: ignore[method-assign]

    def run(self, function: str, call: Callable[[], Any], records: int = 0) -> Any:
        with self._lock:
            self._running += 1
        self._current.function = function
        start = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            self._current.function = None
            with self._lock:
                self.log.append(Invocation(function, elapsed, records))
                self._running -= 1
                self._last = time.monotonic()

    def current(self) -> str:
        """The function this thread is running (its AWS requests are that function's)."""
        return getattr(self._current, "function", None) or "(bench)"

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self._running else time.monotonic() - self._last


class CountingClient(BenchApi):
    """The bench's client, each call of which counts as an invocation of the function its route names."""

    def __init__(self, stack: Stack, invocations: Invocations) -> None:
        super().__init__(stack)
        self.invocations = invocations

    def call(self, method: str, path: str, **kwargs: Any) -> ProxyResponse:
        found = self.stack.match(method.upper(), path)
        function = found[0].logical_id if found else "(no route)"
        response: ProxyResponse = self.invocations.run(function, lambda: BenchApi.call(self, method, path, **kwargs))
        return response


class OwnedRecorder(Recorder):
    """Recorder that also notes which function made each request."""

    def __init__(self, whose: Callable[[], str]) -> None:
        super().__init__()
        self.whose = whose
        self.owners: dict[int, str] = {}

    def _record(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if self._calls is not None:
            call = analyze(model.name, context.get("bench_params", {}), parsed)
            self.owners[id(call)] = self.whose()
            self._calls.append(call)


class StartedExecutions:
    """Counts StartExecution requests of the Step Functions client the stream function uses."""

    def __init__(self) -> None:
        self.count = 0
        layer.shared_client("stepfunctions").meta.events.register(
            "after-call.sfn.StartExecution", self._started, unique_id="bench-start-execution"
        )

    def _started(self, **_: Any) -> None:
        self.count += 1


@dataclass
class Lifecycle:
    label: str
    calls: str
    fields: dict[str, Any]
    steps: tuple[str, ...]
    api: list[str] = field(default_factory=list)
    started: int = 0
    executions: Counter[str] = field(default_factory=Counter)
    outcomes: list[str] = field(default_factory=list)
    entered: int = 0
    retries: int = 0
    invocations: list[Invocation] = field(default_factory=list)
    calls_made: list[Call] = field(default_factory=list)
    timer_calls: list[Call] = field(default_factory=list)
    index_units: Counter[str] = field(default_factory=Counter)  # GSI write units, per index
    seconds: float = 0.0

    def invoked(self, *functions: str) -> int:
        return sum(1 for i in self.invocations if i.function in functions)

    @property
    def api_invocations(self) -> int:
        return sum(1 for i in self.invocations if i.function not in (STREAM_FUNCTION, *TIMER_FUNCTIONS))

    @property
    def records(self) -> int:
        return sum(i.records for i in self.invocations if i.function == STREAM_FUNCTION)


def lifecycles() -> list[Lifecycle]:
    both = {"timeout_seconds": TIMER_SECONDS, "auto_complete_seconds": TIMER_SECONDS}
    return [
        Lifecycle("a) happy path", "post, claim, deliver, complete", both, ("claim", "deliver", "complete")),
        Lifecycle("b) expiry", "post, claim; left alone", both, ("claim",)),
        Lifecycle("c) auto-complete", "post, claim, deliver; left alone", both, ("claim", "deliver")),
    ]


def execution_history(stepfunctions: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = stepfunctions.get_execution_history(executionArn=arn, maxResults=1000, **token)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        token = {"nextToken": page["nextToken"]}


def deadlines_soon() -> datetime:
    """When a lifecycle's claim "happens" (its delivery a second later): TIMER_SECONDS before deadlines TIMER_LEAD
    (claim expiry) and TIMER_LEAD + 1 s (auto-complete) from now, each 1 microsecond past a whole second.

    moto's Wait state waits int(fire_at - now) seconds, so it wakes up to 1 s before the whole second it is given
    (AWS does not); a deadline just past a whole second is never before that wake-up, so no timer fires early and
    costs a TimerFiredEarly retry that AWS would not make."""
    expiry = datetime.fromtimestamp(math.ceil(time.time()) + TIMER_LEAD, UTC) + timedelta(microseconds=1)
    return expiry - timedelta(seconds=TIMER_SECONDS)


def run_lifecycle(
    stack: Stack,
    api: CountingClient,
    recorder: OwnedRecorder,
    started: StartedExecutions,
    poster: Agent,
    worker: Agent,
    lifecycle: Lifecycle,
    index_writes: IndexWrites,
) -> None:
    """Drive one lifecycle with deadlines a few seconds away, and count everything until its timers finished."""
    import boto3

    stepfunctions = boto3.client("stepfunctions", region_name=REGION)  # not the counted one
    machines = {stack.names[logical_id]: short for logical_id, short in STATE_MACHINES.items()}
    invocations = api.invocations
    first, starts, written = len(invocations.log), started.count, index_writes.mark()
    # the executions of earlier lifecycles (one lifecycle runs at a time: whatever else there is, is this one's)
    before = {
        execution["executionArn"]
        for arn in machines
        for execution in stepfunctions.list_executions(stateMachineArn=arn)["executions"]
    }
    bodies = {"claim": {"agent_id": "bench"}, "deliver": {"result": RESULT}, "complete": None}
    keys = {"claim": worker.key, "deliver": worker.key, "complete": poster.key}
    begun = time.perf_counter()
    with recorder.measure() as calls:
        # The board's clock stands still in the past while the calls run (tests/support.FrozenClock): the claim's
        # expiry arrives TIMER_LEAD s from now, the delivery's auto-complete a second later (a fixed order).
        clock = FrozenClock(deadlines_soon())
        board = layer.board()
        board.clock = clock
        try:
            task_id = api.task(poster, **lifecycle.fields)
            for step in lifecycle.steps:
                if step == "deliver":
                    clock.advance(1)
                api.ok("POST", f"/tasks/{task_id}/{step}", key=keys[step], body=bodies[step])
        finally:
            board.clock = layer.utc_now
        limit = time.monotonic() + 20
        while True:
            executions = [
                (short, execution)
                for arn, short in machines.items()
                for execution in stepfunctions.list_executions(stateMachineArn=arn)["executions"]
                if execution["executionArn"] not in before
            ]
            running = any(execution["status"] == "RUNNING" for _, execution in executions)
            if executions and not running and invocations.idle_for() >= QUIET_SECONDS:
                break
            if time.monotonic() > limit:
                raise RuntimeError(f"{lifecycle.label}: timers still running after 20 s: {executions}")
            time.sleep(0.1)
    lifecycle.seconds = time.perf_counter() - begun - QUIET_SECONDS
    lifecycle.invocations = invocations.log[first:]
    lifecycle.api = [i.function for i in lifecycle.invocations if i.function not in (STREAM_FUNCTION, *TIMER_FUNCTIONS)]
    lifecycle.started = started.count - starts
    lifecycle.calls_made = list(calls)
    lifecycle.index_units = index_writes.since(written)
    timer_owners = (STREAM_FUNCTION, *TIMER_FUNCTIONS)
    lifecycle.timer_calls = [call for call in calls if recorder.owners.get(id(call)) in timer_owners]
    for short, execution in sorted(executions, key=lambda found: found[1]["startDate"]):
        lifecycle.executions[short] += 1
        history = [event["type"] for event in execution_history(stepfunctions, execution["executionArn"])]
        lifecycle.entered += sum(1 for kind in history if kind.endswith("StateEntered"))
        lifecycle.retries += max(0, history.count("TaskScheduled") - history.count("TaskStateEntered"))
        described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
        fired = json.loads(described.get("output") or "{}").get("outcomes")
        outcome = " ".join(f"{n} {name}" for name, n in fired.items()) or "none" if fired is not None else None
        lifecycle.outcomes.append(f"{short}: {outcome or execution['status'].lower()}")
