"""What each endpoint costs: a report (numbers, never assertions), run with `make bench`.

1. DynamoDB requests per call of every route in template.yaml, with the items each call reads and writes,
   counted by a botocore hook on the client the handlers use, while the real handlers run on moto.
2. Cold start of every function: importing its module in a fresh interpreter, as Lambda's init does.
3. GET /tasks/next?skills=rare as the table fills with tasks it must not read: other skills, and 'rare'
   tasks that are claimed or finished. Seeded straight into moto (the repository's own item format).
4. The reads an idle long poll makes, from the poll interval, checked against a real (short) poll.
5. What the timers cost per task lifecycle (happy path, claim expiry, auto-complete): Step Functions executions
   and state transitions, Lambda invocations, DynamoDB requests and stream records, counted on the local stack
   with the deadlines brought ~2 s near; then the cost per million lifecycles at AWS list prices.

moto does not measure capacity: it returns ConsumedCapacity only when asked, and then a constant per request.
Capacity here is therefore an estimate from the items' sizes by DynamoDB's rounding rules (reads: 4 KB units,
halved when eventually consistent, Query summed before rounding; writes: 1 KB units, doubled in transactions).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local.stack import ACCOUNT, LAYER, REGION, ProxyResponse, Stack
from local.template import function_routes, load_template

if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))

warnings.filterwarnings("ignore", message="No application metrics to publish")

COLD_RUNS = 3
RARE = "rare"
OTHER_SKILLS = ("python", "sql", "scraping", "translation", "vision", "math", "writing", "search")
SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "integer"}}}
RESULT = {"answer": 42}

# ---- output --------------------------------------------------------------------------------------------------

_captured = io.StringIO()


def out(text: str = "") -> None:
    print(text, flush=True)
    _captured.write(text + "\n")


def progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: Iterable[int] = ()) -> None:
    """An aligned text table; columns listed in `right` are right-aligned (numbers)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(text) for text in column) for column in zip(headers, *cells, strict=True)]
    aligned = set(right)

    def line(row: Sequence[str]) -> str:
        parts = [
            text.rjust(w) if i in aligned else text.ljust(w)
            for i, (text, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out(line(headers))
    out("  ".join("-" * w for w in widths))
    for row in cells:
        out(line(row))


def section(title: str) -> None:
    out()
    out(title)
    out("=" * len(title))


def number(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0") if value != int(value) else f"{int(value):,}"


# ---- counting DynamoDB requests --------------------------------------------------------------------------------


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return 1 + (len(digits) + 1) // 2


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for one attribute value (its documented size rules, close enough for an estimate)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(item) for item in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(item) for name, item in data.items())
    if kind == "SS":
        return sum(len(item.encode()) for item in data)
    if kind == "NS":
        return sum(_number_size(item) for item in data)
    return sum(len(item) for item in data)  # BS


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


@dataclass
class Call:
    operation: str
    items_read: int = 0
    items_written: int = 0
    rcu: float = 0.0
    wcu: float = 0.0


def analyze(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> Call:
    """Items read/written by one request, and the capacity DynamoDB would bill for it (estimated)."""
    call = Call(operation)
    consistent = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        item = parsed.get("Item")
        call.items_read = 1 if item else 0
        call.rcu = units(item_size(item or {}), 4096) * consistent
    elif operation in ("Query", "Scan"):
        items = parsed.get("Items", [])
        call.items_read = parsed.get("ScannedCount", parsed.get("Count", len(items)))
        call.rcu = units(sum(item_size(item) for item in items), 4096) * consistent
    elif operation == "BatchGetItem":
        for name, request in params.get("RequestItems", {}).items():
            found = parsed.get("Responses", {}).get(name, [])
            factor = 1.0 if request.get("ConsistentRead") else 0.5
            call.items_read += len(found)
            missing = max(0, len(request.get("Keys", [])) - len(found))
            call.rcu += (sum(units(item_size(item), 4096) for item in found) + missing) * factor
    elif operation == "TransactGetItems":
        found = [response.get("Item") or {} for response in parsed.get("Responses", [])]
        call.items_read = sum(1 for item in found if item)
        call.rcu = 2 * sum(units(item_size(item), 4096) for item in found)
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        call.items_written = 1
        call.wcu = units(item_size(params.get("Item", {})), 1024)
    elif operation == "BatchWriteItem":
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                call.items_written += 1
                call.wcu += units(item_size(request.get("PutRequest", {}).get("Item", {})), 1024)
    elif operation == "TransactWriteItems":
        for action in params.get("TransactItems", []):
            ((kind, body),) = action.items()
            if kind != "ConditionCheck":
                call.items_written += 1
            call.wcu += 2 * units(item_size(body.get("Item", {})), 1024)
    return call


@dataclass
class Cost:
    requests: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    items_written: int = 0
    rcu: float = 0.0
    wcu: float = 0.0

    @classmethod
    def of(cls, calls: Iterable[Call]) -> Cost:
        cost = cls()
        for call in calls:
            cost.requests[call.operation] += 1
            cost.items_read += call.items_read
            cost.items_written += call.items_written
            cost.rcu += call.rcu
            cost.wcu += call.wcu
        return cost

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def describe(self) -> str:
        return ", ".join(f"{operation} {count}" for operation, count in self.requests.items()) or "-"


class Recorder:
    """Counts the requests of the DynamoDB client the handlers share (taskboard.core.aws.client), while measuring."""

    def __init__(self) -> None:
        from taskboard.core.aws import client

        events = client("dynamodb").meta.events
        events.register("before-parameter-build.dynamodb", self._remember, unique_id="bench-remember")
        events.register("after-call.dynamodb", self._record, unique_id="bench-record")
        self._calls: list[Call] | None = None
        self._thread = 0

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    def _record(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # only the measured request's own calls: the stream and queue pollers work in other threads meanwhile
        if self._calls is not None and threading.get_ident() == self._thread:
            self._calls.append(analyze(model.name, context.get("bench_params", {}), parsed))

    @contextmanager
    def measure(self) -> Iterator[list[Call]]:
        calls: list[Call] = []
        self._thread = threading.get_ident()
        self._calls = calls
        try:
            yield calls
        finally:
            self._calls = None


# ---- driving the API -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agent:
    key: str
    id: str


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    key: str | None = None
    body: Any = None
    query: str = ""


class Client:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def send(self, request: Request) -> ProxyResponse:
        headers = {"Content-Type": "application/json"} if request.body is not None else {}
        if request.key:
            headers["x-api-key"] = request.key
        body = json.dumps(request.body) if request.body is not None else None
        return self.stack.invoke(request.method, request.path, headers=headers, query=request.query, body=body)

    def ok(self, method: str, path: str, key: str | None = None, body: Any = None, query: str = "") -> Any:
        response = self.send(Request(method, path, key, body, query))
        if response.status >= 300:
            raise RuntimeError(f"set-up call {method} {path} failed: {response.status} {response.body}")
        return response.json()

    def agent(self, name: str) -> Agent:
        made = self.ok("POST", "/keys", body={"name": name})
        return Agent(made["key"], made["id"])

    def task(self, poster: Agent, **fields: Any) -> str:
        body = {"title": "a task", "description": "Do the thing.", "input": {"text": "hello"}, **fields}
        return str(self.ok("POST", "/tasks", key=poster.key, body=body)["id"])


# ---- 1. requests per endpoint ----------------------------------------------------------------------------------


# The bench makes hundreds of calls per key and dozens of accounts from one IP in a minute: rate limits (whose
# one UpdateItem per call it still counts) are set out of reach.
UNLIMITED = {
    "RATE_LIMIT_PER_MINUTE": "1000000",
    "POLL_RATE_LIMIT_PER_MINUTE": "1000000",
    "SIGNUP_LIMIT_PER_HOUR": "1000000",
}

HOOK_URL = "http://127.0.0.1:9/hooks"  # loopback is allowed locally; nothing listens, nothing is slow


def endpoint_scenarios(api: Client) -> dict[tuple[str, str], tuple[str, Callable[[], Request]]]:
    """Per route: the state it is called in, and a set-up (not measured) returning the one call to measure."""
    poster, worker = api.agent("poster"), api.agent("worker")
    for n in range(10):
        api.task(poster, title=f"python task {n}", tags=["python"])

    def open_task(**fields: Any) -> str:
        return api.task(poster, tags=["setup"], **fields)

    def claimed_task(**fields: Any) -> str:
        task_id = open_task(**fields)
        api.ok("POST", f"/tasks/{task_id}/claim", key=worker.key, body={"agent_id": "bench"})
        return task_id

    def delivered_task() -> str:
        task_id = claimed_task(output_schema=SCHEMA)
        api.ok("POST", f"/tasks/{task_id}/deliver", key=worker.key, body={"result": RESULT})
        return task_id

    def completed_task(budget: int = 0) -> str:
        task_id = open_task(budget=budget)
        api.ok("POST", f"/tasks/{task_id}/claim", key=worker.key, body={"agent_id": "bench"})
        api.ok("POST", f"/tasks/{task_id}/deliver", key=worker.key, body={"result": RESULT})
        api.ok("POST", f"/tasks/{task_id}/complete", key=poster.key)
        return task_id

    def webhook() -> str:
        body = {"url": HOOK_URL, "events": ["task.failed"]}  # nothing of the bench fails: no deliveries
        return str(api.ok("POST", "/webhooks", key=poster.key, body=body)["id"])

    def owner() -> Agent:
        made = api.ok("POST", "/owners/register", body={"name": "owner"})
        return Agent(made["key"], made["account"]["id"])

    def token() -> dict[str, str]:
        agent_id = f"agent-{uuid.uuid4().hex[:12]}"
        made = api.ok("POST", "/agents/register-token", key=owner().key, body={"agent_id": agent_id})
        return {"registration_token": made["registration_token"], "agent_id": agent_id, "agent_name": "bench"}

    def second_key() -> str:
        return str(api.ok("POST", "/agents/me/keys", key=poster.key)["key_id"])

    next_query = "skills=python&timeout=0"
    new_task = {"title": "new", "description": "Do it.", "input": {"x": 1}, "tags": ["other"], "output_schema": SCHEMA}
    return {
        ("POST", "/keys"): ("no key needed", lambda: Request("POST", "/keys", body={"name": "bench"})),
        ("POST", "/agents/register"): (
            "2 capabilities",
            lambda: Request("POST", "/agents/register", body={"name": "bench", "capabilities": ["coding", "data"]}),
        ),
        ("POST", "/owners/register"): ("", lambda: Request("POST", "/owners/register", body={"name": "bench"})),
        ("POST", "/agents/register-token"): (
            "owner's key",
            lambda: Request("POST", "/agents/register-token", owner().key, {"agent_id": f"a-{uuid.uuid4().hex}"}),
        ),
        ("POST", "/agents/connect"): ("fresh token", lambda: Request("POST", "/agents/connect", body=token())),
        ("GET", "/docs"): ("the reference page", lambda: Request("GET", "/docs")),
        ("GET", "/openapi.json"): ("the document", lambda: Request("GET", "/openapi.json")),
        ("GET", "/agents"): ("capability=coding", lambda: Request("GET", "/agents", query="capability=coding")),
        ("GET", "/agents/{agent_id}"): ("", lambda: Request("GET", f"/agents/{poster.id}")),
        ("GET", "/agents/me"): ("", lambda: Request("GET", "/agents/me", poster.key)),
        ("PATCH", "/agents/me"): (
            "status and 1 capability",
            lambda: Request("PATCH", "/agents/me", poster.key, {"status": "busy", "capabilities": ["python"]}),
        ),
        ("POST", "/agents/me/keys"): ("", lambda: Request("POST", "/agents/me/keys", worker.key)),
        ("GET", "/agents/me/keys"): ("1 key", lambda: Request("GET", "/agents/me/keys", worker.key)),
        ("DELETE", "/agents/me/keys/{key_id}"): (
            "one of 2 keys",
            lambda: Request("DELETE", f"/agents/me/keys/{second_key()}", poster.key),
        ),
        ("GET", "/wallet"): ("", lambda: Request("GET", "/wallet", poster.key)),
        ("GET", "/wallet/ledger"): ("1 entry (the grant)", lambda: Request("GET", "/wallet/ledger", worker.key)),
        ("POST", "/tasks"): ("1 tag, with output_schema", lambda: Request("POST", "/tasks", poster.key, new_task)),
        ("GET", "/tasks"): (
            "10 open 'python' tasks, no key",
            lambda: Request("GET", "/tasks", query="status=open&skills=python"),
        ),
        ("GET", "/tasks/{task_id}"): (
            "open, poster's key",
            lambda: Request("GET", f"/tasks/{open_task()}", poster.key),
        ),
        ("GET", "/tasks/next"): (
            "10 open 'python' tasks, timeout=0",
            lambda: Request("GET", "/tasks/next", worker.key, query=next_query),
        ),
        ("POST", "/tasks/next/claim"): (
            "10 open 'python' tasks, timeout=0",
            lambda: Request("POST", "/tasks/next/claim", worker.key, {"agent_id": "bench"}, next_query),
        ),
        ("POST", "/tasks/{task_id}/claim"): (
            "open",
            lambda: Request("POST", f"/tasks/{open_task()}/claim", worker.key, {"agent_id": "bench"}),
        ),
        ("POST", "/tasks/{task_id}/heartbeat"): (
            "claimed by the caller",
            lambda: Request("POST", f"/tasks/{claimed_task()}/heartbeat", worker.key, {"attempt": 1}),
        ),
        ("POST", "/tasks/{task_id}/release"): (
            "claimed by the caller",
            lambda: Request("POST", f"/tasks/{claimed_task()}/release", worker.key, {"attempt": 1}),
        ),
        ("POST", "/tasks/{task_id}/deliver"): (
            "claimed, with output_schema",
            lambda: Request(
                "POST", f"/tasks/{claimed_task(output_schema=SCHEMA)}/deliver", worker.key, {"result": RESULT}
            ),
        ),
        ("GET", "/tasks/{task_id}/result"): (
            "delivered, timeout=0",
            lambda: Request("GET", f"/tasks/{delivered_task()}/result", poster.key, query="timeout=0"),
        ),
        ("POST", "/tasks/{task_id}/complete"): (
            "delivered",
            lambda: Request("POST", f"/tasks/{delivered_task()}/complete", poster.key),
        ),
        ("POST", "/tasks/{task_id}/reject"): (
            "delivered",
            lambda: Request("POST", f"/tasks/{delivered_task()}/reject", poster.key, {"reason": "not good enough"}),
        ),
        ("POST", "/tasks/{task_id}/cancel"): (
            "open",
            lambda: Request("POST", f"/tasks/{open_task()}/cancel", poster.key),
        ),
        ("POST", "/tasks/{task_id}/review"): (
            "completed, paid; with a tip",
            lambda: Request("POST", f"/tasks/{completed_task(budget=5)}/review", poster.key, {"rating": 5, "tip": 1}),
        ),
        ("GET", "/agents/{agent_id}/reviews"): (
            "reviews of the worker",
            lambda: Request("GET", f"/agents/{worker.id}/reviews", query="limit=20"),
        ),
        ("POST", "/webhooks"): (
            "2 skills",
            lambda: Request("POST", "/webhooks", worker.key, {"url": HOOK_URL, "skills": ["python", "pdf"]}),
        ),
        ("GET", "/webhooks"): ("1 subscription", lambda: Request("GET", "/webhooks", poster.key)),
        ("GET", "/webhooks/{webhook_id}"): ("", lambda: Request("GET", f"/webhooks/{webhook()}", poster.key)),
        ("DELETE", "/webhooks/{webhook_id}"): ("", lambda: Request("DELETE", f"/webhooks/{webhook()}", poster.key)),
        ("POST", "/webhooks/{webhook_id}/rotate"): (
            "",
            lambda: Request("POST", f"/webhooks/{webhook()}/rotate", poster.key),
        ),
        ("POST", "/webhooks/{webhook_id}/enable"): (
            "active",
            lambda: Request("POST", f"/webhooks/{webhook()}/enable", poster.key),
        ),
        ("POST", "/webhooks/{webhook_id}/test"): (
            "(+1 SQS SendMessageBatch)",
            lambda: Request("POST", f"/webhooks/{webhook()}/test", poster.key),
        ),
        ("GET", "/webhooks/{webhook_id}/deliveries"): (
            "empty log",
            lambda: Request("GET", f"/webhooks/{webhook()}/deliveries", poster.key),
        ),
        ("GET", "/events"): (
            "~40 events of the poster",
            lambda: Request("GET", "/events", poster.key, query="limit=20"),
        ),
    }


def bench_endpoints() -> None:
    section("1. DynamoDB requests per call, by endpoint")
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = Client(stack), Recorder()
        scenarios = endpoint_scenarios(api)
        rows: list[tuple[object, ...]] = []
        for route in stack.routes:
            name = f"{route.method} {route.path}"
            found = scenarios.get((route.method, route.path))
            if found is None:
                rows.append((name, "(no scenario in the bench)", "", "", "", "", "", "", ""))
                continue
            state, prepare = found
            request = prepare()
            with recorder.measure() as calls:
                response = api.send(request)
            cost = Cost.of(calls)
            rows.append(
                (
                    name,
                    state,
                    response.status,
                    cost.describe(),
                    cost.total,
                    cost.items_read,
                    cost.items_written,
                    number(cost.rcu),
                    number(cost.wcu),
                )
            )
    headers = ("endpoint", "called in state", "HTTP", "DynamoDB requests", "reqs", "read", "written", "RCU~", "WCU~")
    table(headers, rows, right=(2, 4, 5, 6, 7, 8))
    out()
    out("read/written: items per call (Query: ScannedCount; GetItem/BatchGetItem: items returned).")
    out("RCU~/WCU~: estimated from item sizes (moto reports no real consumed capacity).")


# ---- 2. cold starts --------------------------------------------------------------------------------------------

_COLD_START = r"""
import importlib.util, json, sys, time
app, layer = sys.argv[1], sys.argv[2]
sys.stderr.write("bench: import start\n")
start = time.perf_counter()
sys.path.insert(0, layer)
spec = importlib.util.spec_from_file_location("app", app)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = time.perf_counter()
sys.stderr.write("bench: import end\n")
from taskboard.core.aws import client
client("dynamodb")
done = time.perf_counter()
print(json.dumps({"import_ms": (imported - start) * 1000, "client_ms": (done - imported) * 1000}))
"""

_COLD_ENVIRONMENT = {
    "TABLE_NAME": "x",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "bench",
    "POWERTOOLS_SERVICE_NAME": "agent-task-board",
    "AWS_DEFAULT_REGION": REGION,
}


def _cold_run(app: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ.get("PATH", ""), **_COLD_ENVIRONMENT}
    command = [sys.executable, "-I", *flags, "-c", _COLD_START, str(app), str(LAYER)]
    done = subprocess.run(command, env=environment, cwd=app.parent, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {app} failed:\n{done.stderr}")
    return done


def heaviest_packages(importtime: str, top: int = 4) -> list[tuple[str, float]]:
    """Self import time (ms) summed per top-level package, during the function module's import only."""
    per_package: dict[str, float] = defaultdict(float)
    inside = False
    for line in importtime.splitlines():
        if line.startswith("bench: import"):
            inside = line.endswith("start")
            continue
        if not inside or not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        per_package[name.strip().split(".")[0]] += int(self_us) / 1000
    return [(package, ms) for package, ms in sorted(per_package.items(), key=lambda kv: -kv[1])[:top] if ms >= 0.5]


def bench_cold_starts() -> None:
    section("2. Cold start per function (fresh interpreter: import the handler module)")
    functions = {
        route.logical_id: route.code_uri / f"{route.handler.rsplit('.', 1)[0]}.py"
        for route in function_routes(load_template())
    }
    imports: dict[str, list[float]] = {name: [] for name in functions}
    client_ms: list[float] = []
    for run in range(COLD_RUNS):  # round robin, so a noisy moment spreads over all functions
        progress(f"cold starts, round {run + 1} of {COLD_RUNS}")
        for name, app in functions.items():
            timing = json.loads(_cold_run(app).stdout)
            imports[name].append(timing["import_ms"])
            client_ms.append(timing["client_ms"])
    progress("cold starts under -X importtime")
    rows = []
    for name, app in functions.items():
        heavy = heaviest_packages(_cold_run(app, "-X", "importtime").stderr)
        runs = sorted(imports[name])
        rows.append(
            (
                name,
                f"{statistics.median(runs):.0f}",
                f"{runs[0]:.0f}-{runs[-1]:.0f}",
                ", ".join(f"{package} {ms:.0f}" for package, ms in heavy),
            )
        )
    headers = ("function", "import+init ms", "range", "heaviest packages (self ms under -X importtime)")
    table(headers, rows, right=(1, 2))
    out()
    here = f"Python {platform.python_version()} on {platform.machine()}"
    out(f"Median of {COLD_RUNS} runs, {here}; Lambda runs python3.12 on arm64, so only the relative sizes carry")
    out("over. -X importtime inflates what it measures: its column shows where the time goes, not how much.")
    out("Not included: the first request imports boto3 and creates the DynamoDB client (lazily, taskboard.core.aws),")
    out(f"a median {statistics.median(client_ms):.0f} ms more.")


# ---- 3. GET /tasks/next as the table grows ---------------------------------------------------------------------


class Seeder:
    """Writes whole tasks (the items TaskRepository.create/save write) straight into moto's table: ~3x faster
    than batch_write_item through botocore, which it falls back to (25 items a request) if moto's internals move.
    moto keeps no separate index storage, so the indexes see these items exactly as if the API had written them."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.tasks = self.items = 0
        try:
            from moto.dynamodb.models import dynamodb_backends

            backend = dynamodb_backends[ACCOUNT][REGION]
            backend.get_table(table)
            self._backend: Any = backend
        except Exception:
            import boto3

            self._backend = None
            self._client = boto3.client("dynamodb", region_name=REGION)  # not the recorded one

    def add(self, tasks: Iterable[tuple[Any, Any]]) -> None:
        with self._unchecked_sizes():
            self._add(tasks)

    @contextmanager
    def _unchecked_sizes(self) -> Iterator[None]:
        """moto re-measures the whole item on every attribute it sets (quadratic, two thirds of the seeding time);
        these items are ~1 KB, far below the 400 KB it guards, so the check is skipped while seeding."""
        try:
            from moto.dynamodb.models.dynamo_type import LimitedSizeDict
        except ImportError:
            yield
            return
        checked = LimitedSizeDict.__setitem__
        LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[assignment]
        try:
            yield
        finally:
            LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]

    def _add(self, tasks: Iterable[tuple[Any, Any]]) -> None:
        from taskboard.tasks.items import _body_item, listing_items, state_item

        batch: list[dict[str, Any]] = []
        for state, body in tasks:
            self.tasks += 1
            for item in (state_item(state), _body_item(state.id, body), *listing_items(state)):
                self.items += 1
                if self._backend is not None:
                    self._backend.put_item(self.table, item)
                    continue
                batch.append({"PutRequest": {"Item": item}})
                if len(batch) == 25:
                    self._write(batch)
                    batch = []
        if batch:
            self._write(batch)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {self.table: batch}
        while request:
            request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def make_tasks(
    tag: str, count: int, start: datetime, poster: str | None = None, become: Callable[[Any], Any] | None = None
) -> Iterator[tuple[Any, Any]]:
    """`count` tasks tagged `tag`, created a millisecond apart from `start`, optionally moved on by `become`."""
    from taskboard.core.clock import to_iso
    from taskboard.tasks.lifecycle import TaskState
    from taskboard.tasks.items import TaskBody

    body = TaskBody(description="Do the thing.", input={"text": "hello"})
    for n in range(count):
        created = to_iso(start + timedelta(milliseconds=n))
        state = TaskState(
            id=str(uuid.uuid4()),
            title=f"{tag} task {n}",
            poster_id=poster or str(uuid.uuid4()),
            created_at=created,
            updated_at=created,
            tags=(tag,),
        )
        yield (become(state) if become else state), body


def claimed_now(state: Any) -> Any:
    """Claimed by someone else a moment ago, for the default hour: not claimable again for a long while."""
    from taskboard.core.clock import utc_now
    from taskboard.tasks import lifecycle

    return lifecycle.claim(state, "another-worker", utc_now())


def completed(state: Any) -> Any:
    from taskboard.core.clock import utc_now
    from taskboard.tasks import lifecycle

    now = utc_now() - timedelta(minutes=5)
    delivered = lifecycle.deliver(lifecycle.claim(state, "another-worker", now), "another-worker", now)
    return lifecycle.complete(delivered, state.poster_id, now)


def measure(recorder: Recorder, api: Client, request: Request) -> tuple[Cost, ProxyResponse]:
    with recorder.measure() as calls:
        response = api.send(request)
    return Cost.of(calls), response


def answer(response: ProxyResponse, expected: str | None) -> str:
    if response.status != 200:
        return f"HTTP {response.status}"
    task = response.json().get("task")
    if task is None:
        return "no task (retry)"
    return "the oldest open 'rare'" if task["id"] == expected else f"another task ({task['status']})"


def bench_next_growth() -> None:
    section("3. GET /tasks/next?skills=rare&timeout=0 as the table grows")
    now = datetime.now(UTC)
    rows = []
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = Client(stack), Recorder()
        seeder = Seeder(os.environ["TABLE_NAME"])
        worker = api.agent("worker")
        rare = list(make_tasks(RARE, 5, now - timedelta(hours=1)))
        seeder.add(rare)
        oldest = rare[0][0].id
        old = now - timedelta(days=3)  # older than the open 'rare' tasks: they would sort first if they were read
        others = (
            skill_task for n in range(20_000) for skill_task in make_tasks(OTHER_SKILLS[n % len(OTHER_SKILLS)], 1, old)
        )
        steps: list[tuple[str, Iterable[tuple[Any, Any]]]] = [
            ("5 open 'rare' tasks, nothing else", []),
            ("+ 1,000 open tasks of other skills", (next(others) for _ in range(1_000))),
            ("+ 19,000: 20,000 of other skills", others),
            ("+ 1,000 'rare' claimed (unexpired)", make_tasks(RARE, 1_000, old, become=claimed_now)),
            ("+ 1,000 'rare' completed", make_tasks(RARE, 1_000, old, become=completed)),
            ("+ 19,000: 20,000 'rare' claimed", make_tasks(RARE, 19_000, old, become=claimed_now)),
            ("+ 19,000: 20,000 'rare' completed", make_tasks(RARE, 19_000, old, become=completed)),
        ]
        request = Request("GET", "/tasks/next", worker.key, query=f"skills={RARE}&timeout=0")
        seeded = 0.0
        for label, tasks in steps:
            progress(f"/tasks/next: {label}")
            start = time.perf_counter()
            seeder.add(tasks)
            seeded += time.perf_counter() - start
            cost, response = measure(recorder, api, request)
            rows.append(
                (
                    label,
                    f"{seeder.tasks:,}",
                    f"{seeder.items:,}",
                    cost.describe(),
                    cost.items_read,
                    number(cost.rcu),
                    answer(response, oldest),
                )
            )
    table(("table holds", "tasks", "items", "DynamoDB requests", "read", "RCU~", "answer"), rows, right=(1, 2, 4, 5))
    out()
    out("Claimed and completed 'rare' tasks were created before the open ones, so they would come first if the")
    out("Available index read them. Items read = Query ScannedCount + BatchGetItem items (STATE and BODY of each")
    out(f"candidate) + the key's GetItem. Seeded {seeder.tasks:,} tasks ({seeder.items:,} items) in {seeded:.0f} s.")
    bench_next_bounds()


def bench_next_bounds() -> None:
    """What one call reads at most, and what it cannot see past."""
    now = datetime.now(UTC)
    rows = []
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = Client(stack), Recorder()
        seeder = Seeder(os.environ["TABLE_NAME"])
        worker = api.agent("worker")
        many = list(make_tasks("many", 100, now - timedelta(hours=1)))
        seeder.add(many)
        seeder.add(make_tasks("own", 100, now - timedelta(hours=2), poster=worker.id))
        theirs = list(make_tasks("own", 5, now - timedelta(hours=1)))
        seeder.add(theirs)
        cases = [
            (
                "100 open 'many' tasks",
                "GET /tasks/next",
                Request("GET", "/tasks/next", worker.key, query="skills=many&timeout=0"),
                many[0][0].id,
            ),
            (
                "100 oldest open 'own' posted by the caller, 5 newer by others",
                "GET /tasks/next",
                Request("GET", "/tasks/next", worker.key, query="skills=own&timeout=0"),
                theirs[0][0].id,
            ),
            (
                "(same)",
                "POST /tasks/next/claim",
                Request("POST", "/tasks/next/claim", worker.key, None, "skills=own&timeout=0"),
                theirs[0][0].id,
            ),
        ]
        for situation, endpoint, request, expected in cases:
            cost, response = measure(recorder, api, request)
            found = response.json().get("task") if response.status == 200 else None
            result = (
                "no task (retry)"
                if found is None
                else ("the oldest claimable" if found["id"] == expected else "another")
            )
            rows.append((situation, endpoint, cost.describe(), cost.items_read, number(cost.rcu), result))
    out()
    out("Per-call bounds (a fresh small table):")
    table(("table holds", "endpoint", "DynamoDB requests", "read", "RCU~", "answer"), rows, right=(3, 4))
    out()
    out("One search reads at most 4 pages of 25 candidates (Limit 27 per Query) and loads STATE + BODY of every")
    out("candidate on a page, though it returns one. Candidates the caller may not take (its own tasks, ones it")
    out("already attempted, requires_human mismatch) are filtered after the read, so 100 of them ahead of a")
    out("claimable task hide it from this caller.")


# ---- 4. long polls ---------------------------------------------------------------------------------------------


class FakeTime:
    """Stands in for the board's monotonic clock and sleep: a 25 s poll runs in milliseconds, same code path."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def bench_long_polls() -> None:
    template = load_template()
    poll = template["Parameters"]["PollIntervalSeconds"]
    default, low, high = float(poll["Default"]), int(poll["MinValue"]), int(poll["MaxValue"])
    wait = int(template["Globals"]["Function"]["Environment"]["Variables"]["MAX_POLL_SECONDS"])
    memory_gb = int(template["Globals"]["Function"]["MemorySize"]) / 1024
    section(f"4. Idle long polls (timeout={wait}, nothing to find)")
    rows = []
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = Client(stack), Recorder()
        poster, worker = api.agent("poster"), api.agent("worker")
        waiting = api.task(poster, tags=["setup"])
        from taskboard.runtime import board

        cases: list[tuple[float, str, str]] = [
            (interval, "GET /tasks/next?skills=idle", "skills=idle") for interval in sorted({low, 2, 5, high})
        ]
        cases.insert(
            cases.index((2, "GET /tasks/next?skills=idle", "skills=idle")) + 1,
            (2, "  ... skills=a,b,c", "skills=a,b,c"),
        )
        cases.append((default, "GET /tasks/{id}/result (open task)", "result"))
        for interval, label, query in cases:
            fake = FakeTime()
            search = board()
            search.monotonic, search.sleep, search.poll_interval = fake.monotonic, fake.sleep, float(interval)
            if query == "result":
                request = Request("GET", f"/tasks/{waiting}/result", poster.key, query=f"timeout={wait}")
            else:
                request = Request("GET", "/tasks/next", worker.key, query=f"{query}&timeout={wait}")
            cost, response = measure(recorder, api, request)
            assert response.status == 200, response.body
            calls_per_hour = 3600 / fake.now
            rows.append(
                (
                    f"{interval:g}" + (" (default)" if interval == default else ""),
                    label,
                    1 + math.floor(wait / interval),
                    f"{fake.now:g}",
                    cost.describe(),
                    number(cost.rcu),
                    f"{cost.total * calls_per_hour:,.0f}",
                    f"{cost.rcu * calls_per_hour:,.0f}",
                )
            )
    headers = (
        "interval s",
        "call",
        f"reads 1+floor({wait}/i)",
        "waited s",
        "DynamoDB requests per call",
        "RCU~/call",
        "reqs/h",
        "RCU~/h",
    )
    table(headers, rows, right=(2, 3, 5, 6, 7))
    out()
    out("The real handlers, with the board's sleep and clock simulated. Per hour: a worker that calls again as")
    out("soon as a poll comes back empty (3600 / waited calls). While it waits, a call keeps its Lambda busy, so")
    megabytes, hourly = memory_gb * 1024, 3600 * memory_gb
    out(f"an idle worker holds one {megabytes:.0f} MB function all the time: {hourly:,.0f} GB-s an hour.")
    bench_real_poll()


def bench_real_poll() -> None:
    """The formula checked against a real poll with a short interval (real sleeps)."""
    interval = 0.3
    rows = []
    with Stack(environment=UNLIMITED | {"POLL_INTERVAL_SECONDS": str(interval)}) as stack:
        api, recorder = Client(stack), Recorder()
        worker = api.agent("worker")
        for timeout in (1, 2):
            progress(f"real long poll, timeout={timeout}")
            start = time.perf_counter()
            cost, _ = measure(
                recorder, api, Request("GET", "/tasks/next", worker.key, query=f"skills=idle&timeout={timeout}")
            )
            elapsed = time.perf_counter() - start
            queries = cost.requests["Query"]
            rows.append(
                (
                    timeout,
                    1 + math.floor(timeout / interval),
                    queries,
                    f"{elapsed:.2f}",
                    f"{(queries - 1) / elapsed:.2f}" if elapsed else "-",
                    f"{1 / interval:.2f}",
                )
            )
    out()
    out(f"Checked with real sleeps, POLL_INTERVAL_SECONDS={interval}:")
    table(
        ("timeout s", "expected reads", "measured", "elapsed s", "reads/s after the first", "1/interval"),
        rows,
        right=range(6),
    )


# ---- 5. timers: Step Functions and Lambda per task lifecycle ---------------------------------------------------

TIMER_SECONDS = 30  # the shortest timeout_seconds / auto_complete_seconds the API accepts
TIMER_LEAD = 2  # a claim's expiry arrives this long after the lifecycle's calls; a delivery's auto-complete 1 s later
QUIET_SECONDS = 0.6  # no execution running and no Lambda invoked for this long: the lifecycle is over
STREAM_FUNCTION = "OnTaskChangeFunction"
TIMER_FUNCTIONS = ("ExpireClaimFunction", "AutoCompleteFunction")
# The webhook pipeline reads the same stream; this section leaves it out (the README prices it per delivery).
WEBHOOK_FUNCTIONS = ("OnTaskEventFunction", "DeliverWebhookFunction")
STATE_MACHINES = {"ClaimExpiryStateMachine": "ClaimExpiry", "AutoCompleteStateMachine": "AutoComplete"}

# AWS list prices, us-east-1 (per unit).
PRICES = {
    "api": (3.50 / 1e6, "API Gateway REST API", "$3.50 per million requests"),
    "lambda_request": (0.20 / 1e6, "Lambda requests", "$0.20 per million requests"),
    "lambda_gb_s": (0.0000133334, "Lambda duration, arm64", "$0.0000133334 per GB-second"),
    "transition": (0.025 / 1000, "Step Functions Standard", "$0.025 per 1,000 state transitions"),
    "wru": (0.625 / 1e6, "DynamoDB on-demand writes", "$0.625 per million write request units"),
    "rru": (0.125 / 1e6, "DynamoDB on-demand reads", "$0.125 per million read request units"),
    "stream": (0.0, "DynamoDB Streams, read by a Lambda trigger", "free"),
}
MIN_BILLED_MS = 20


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


class CountingClient(Client):
    def __init__(self, stack: Stack, invocations: Invocations) -> None:
        super().__init__(stack)
        self.invocations = invocations

    def send(self, request: Request) -> ProxyResponse:
        found = self.stack.match(request.method, request.path)
        function = found[0].logical_id if found else "(no route)"
        response: ProxyResponse = self.invocations.run(function, lambda: Client.send(self, request))
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
        from taskboard.core.aws import client

        self.count = 0
        client("stepfunctions").meta.events.register(
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


def deadlines_soon() -> tuple[datetime, datetime]:
    """When a lifecycle's claim and delivery "happen": TIMER_SECONDS before deadlines TIMER_LEAD (claim expiry) and
    TIMER_LEAD + 1 s (auto-complete) from now, each 1 microsecond past a whole second.

    moto's Wait state waits int(fire_at - now) seconds, so it wakes up to 1 s before the whole second it is given
    (AWS does not); a deadline just past a whole second is never before that wake-up, so no timer fires early and
    costs a TimerFiredEarly retry that AWS would not make."""
    expiry = datetime.fromtimestamp(math.ceil(time.time()) + TIMER_LEAD, UTC) + timedelta(microseconds=1)
    claimed = expiry - timedelta(seconds=TIMER_SECONDS)
    return claimed, claimed + timedelta(seconds=1)


def run_lifecycle(
    stack: Stack,
    api: CountingClient,
    recorder: OwnedRecorder,
    started: StartedExecutions,
    poster: Agent,
    worker: Agent,
    lifecycle: Lifecycle,
) -> None:
    """Drive one lifecycle with deadlines a few seconds away, and count everything until its timers finished."""
    import boto3

    from taskboard.core.clock import utc_now
    from taskboard.runtime import board

    stepfunctions = boto3.client("stepfunctions", region_name=REGION)  # not the counted one
    machines = {stack.names[logical_id]: short for logical_id, short in STATE_MACHINES.items()}
    invocations = api.invocations
    first, starts = len(invocations.log), started.count
    bodies = {"claim": {"agent_id": "bench"}, "deliver": {"result": RESULT}, "complete": None}
    keys = {"claim": worker.key, "deliver": worker.key, "complete": poster.key}
    begun = time.perf_counter()
    with recorder.measure() as calls:
        # The board's clock stands still in the past while the calls run (as tests/support.FrozenClock does): the
        # claim's expiry arrives TIMER_LEAD s from now, the delivery's auto-complete a second later (a fixed order).
        claimed, delivered = deadlines_soon()
        board().clock = lambda: claimed
        try:
            task_id = api.task(poster, **lifecycle.fields)
            for step in lifecycle.steps:
                if step == "deliver":
                    board().clock = lambda: delivered
                api.ok("POST", f"/tasks/{task_id}/{step}", key=keys[step], body=bodies[step])
        finally:
            board().clock = utc_now
        limit = time.monotonic() + 20
        while True:
            executions = [
                (short, execution)
                for arn, short in machines.items()
                for execution in stepfunctions.list_executions(stateMachineArn=arn)["executions"]
                if execution["name"].startswith(task_id)
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
    timer_owners = (STREAM_FUNCTION, *TIMER_FUNCTIONS)
    lifecycle.timer_calls = [call for call in calls if recorder.owners.get(id(call)) in timer_owners]
    for short, execution in sorted(executions, key=lambda found: found[1]["startDate"]):
        lifecycle.executions[short] += 1
        history = [event["type"] for event in execution_history(stepfunctions, execution["executionArn"])]
        lifecycle.entered += sum(1 for kind in history if kind.endswith("StateEntered"))
        lifecycle.retries += max(0, history.count("TaskScheduled") - history.count("TaskStateEntered"))
        described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
        outcome = json.loads(described.get("output") or "{}").get("outcome", execution["status"].lower())
        lifecycle.outcomes.append(f"{short} {outcome}")


def bench_timers() -> None:
    section("5. Timers: Step Functions and Lambda per task lifecycle")
    runs = lifecycles()
    stack = Stack(environment=UNLIMITED | {"POLL_INTERVAL_SECONDS": "0.1"})
    invocations = Invocations(stack)
    with stack:
        for poller in stack.pollers:
            if poller.spec.logical_id in WEBHOOK_FUNCTIONS:
                poller.stop()
        for spec in stack.functions.values():  # imported now, so no invocation below pays for it
            stack.module(spec)
        api, recorder = CountingClient(stack, invocations), OwnedRecorder(invocations.current)
        started = StartedExecutions()
        poster, worker = api.agent("poster"), api.agent("worker")
        for lifecycle in runs:
            progress(f"timers: {lifecycle.label}")
            run_lifecycle(stack, api, recorder, started, poster, worker, lifecycle)
        errors = [error for poller in stack.pollers for error in poller.errors]
    report_timer_counts(runs, errors)
    report_timer_costs(runs)


def report_timer_counts(runs: list[Lifecycle], errors: list[str]) -> None:
    def row(label: str, value: Callable[[Lifecycle], Any]) -> tuple[Any, ...]:
        return (label, *(value(lifecycle) for lifecycle in runs))

    def per_function(function: str) -> Callable[[Lifecycle], int]:
        return lambda lifecycle: lifecycle.invoked(function)

    rows = [
        row("API requests", lambda c: len(c.api)),
        row("StartExecution calls", lambda c: c.started),
        row(
            "  executions",
            lambda c: ", ".join(f"{n} {short}" for short, n in c.executions.items()) or "-",
        ),
        row("  outcome of each timer", lambda c: ", ".join(c.outcomes)),
        row("state transitions (StateEntered)", lambda c: c.entered),
        row("  retries (extra TaskScheduled)", lambda c: c.retries),
        row("Lambda invocations, here", lambda c: len(c.invocations)),
        row("  API functions", lambda c: c.api_invocations),
        row(f"  {STREAM_FUNCTION} (batches here)", per_function(STREAM_FUNCTION)),
        *(row(f"  {function}", per_function(function)) for function in TIMER_FUNCTIONS),
        row(f"stream records to {STREAM_FUNCTION}", lambda c: c.records),
        row("Lambda invocations, 1 per record", lambda c: len(c.invocations) - c.invoked(STREAM_FUNCTION) + c.records),
        row("table stream records~ (items written)", lambda c: Cost.of(c.calls_made).items_written),
        row("DynamoDB requests", lambda c: Cost.of(c.calls_made).total),
        row("  by operation", lambda c: Cost.of(c.calls_made).describe()),
        row("  by the timer + stream functions", lambda c: Cost.of(c.timer_calls).describe()),
        row("WRU~", lambda c: number(Cost.of(c.calls_made).wcu)),
        row("RRU~", lambda c: number(Cost.of(c.calls_made).rcu)),
        row(f"post -> last timer done, s (deadlines {TIMER_LEAD}-{TIMER_LEAD + 2} s on)", lambda c: f"{c.seconds:.1f}"),
    ]
    out("Lifecycles (one task each, driven through Stack.invoke; the worker finds the task by its id):")
    for lifecycle in runs:
        functions = ", ".join(name.removesuffix("Function") for name in lifecycle.api)
        out(f"  {lifecycle.label}: {lifecycle.calls} (API functions: {functions})")
    out()
    table(("per lifecycle", *(lifecycle.label for lifecycle in runs)), rows, right=range(1, len(runs) + 1))
    out()
    shift = TIMER_SECONDS - TIMER_LEAD
    out(f"Each lifecycle's calls ran on the board's clock stopped ~{shift} s in the past (~{shift - 1} s from the")
    out(f"delivery on), so its {TIMER_SECONDS} s deadlines came soon: the claim's expiry ~{TIMER_LEAD} s after the")
    out("calls, the delivery's auto-complete a second later, each just past a whole second (moto's Wait state")
    out("truncates to whole seconds and would wake a timer up to 1 s early: a TimerFiredEarly retry AWS would not")
    out("make). Counted until every execution the lifecycle started had finished and no Lambda had run for")
    out(f"{QUIET_SECONDS} s (the timers' own writes reach the stream, too).")
    out("A timer whose task moved on meanwhile still fires, as deployed: its Lambda runs and does nothing (noop).")
    retries = sum(lifecycle.retries for lifecycle in runs)
    out("Transitions: the StateEntered events in the history of every execution (Wait + Task here). AWS bills")
    out("each state entered as one transition, and every retry of a Task state as one more (after a Lambda error,")
    out(f"or a timer woken before its deadline: TimerFiredEarly); {retries or 'none'} here (extra TaskScheduled).")
    out("Table stream records~: every item put or deleted makes one; the template's filter passes only the task's")
    out(f"STATE item to {STREAM_FUNCTION}, and records filtered out invoke nothing.")
    if errors:
        out(f"Stream poller errors: {errors}")


def report_timer_costs(runs: list[Lifecycle]) -> None:
    durations = sorted(i.ms for lifecycle in runs for i in lifecycle.invocations)
    groups = {
        "API functions": [
            i.ms for c in runs for i in c.invocations if i.function not in (STREAM_FUNCTION, *TIMER_FUNCTIONS)
        ],
        STREAM_FUNCTION: [i.ms for c in runs for i in c.invocations if i.function == STREAM_FUNCTION],
        "timer functions": [i.ms for c in runs for i in c.invocations if i.function in TIMER_FUNCTIONS],
    }
    median_ms = statistics.median(durations)
    billed_ms = max(MIN_BILLED_MS, math.ceil(median_ms))
    memory_gb = int(load_template()["Globals"]["Function"]["MemorySize"]) / 1024
    gb_s = billed_ms / 1000 * memory_gb

    out()
    out("AWS list prices assumed, us-east-1 (check them against aws.amazon.com/pricing):")
    table(("service", "price"), [(name, text) for _, name, text in PRICES.values()])
    out()
    medians = ", ".join(f"{name} {statistics.median(ms):.0f} ms" for name, ms in groups.items() if ms)
    out(f"Lambda duration: the median in-process invocation here took {median_ms:.0f} ms")
    out(f"({medians}).")
    out(f"Assumed: {billed_ms} ms (that median, at least {MIN_BILLED_MS} ms) for every invocation, at the template's")
    out(f"MemorySize {memory_gb * 1024:.0f} MB on arm64: {gb_s:.4f} GB-s each.")
    out("In-process the AWS calls go to moto, not over the network, so real durations are likely longer; at this")
    out("size duration is a small part of the Lambda bill either way.")

    def lines(c: Lifecycle) -> dict[str, tuple[float, float, str, bool]]:
        """item -> (quantity per lifecycle, price per unit, service, counts as timers)."""
        cost = Cost.of(c.calls_made)
        api_lambdas, timer_lambdas = c.api_invocations, c.invoked(*TIMER_FUNCTIONS)
        price = {key: value[0] for key, value in PRICES.items()}
        return {
            "API Gateway requests": (len(c.api), price["api"], "API Gateway", False),
            "Lambda requests, API functions": (api_lambdas, price["lambda_request"], "Lambda", False),
            f"Lambda requests, {STREAM_FUNCTION} (1 per record)": (
                c.records,
                price["lambda_request"],
                "Lambda",
                True,
            ),
            "Lambda requests, ExpireClaim + AutoComplete": (timer_lambdas, price["lambda_request"], "Lambda", True),
            "Lambda GB-s, API functions": (api_lambdas * gb_s, price["lambda_gb_s"], "Lambda", False),
            "Lambda GB-s, stream + timer functions": (
                (c.records + timer_lambdas) * gb_s,
                price["lambda_gb_s"],
                "Lambda",
                True,
            ),
            "Step Functions state transitions": (c.entered + c.retries, price["transition"], "Step Functions", True),
            "DynamoDB write request units~": (cost.wcu, price["wru"], "DynamoDB", False),
            "DynamoDB read request units~": (cost.rcu, price["rru"], "DynamoDB", False),
            "DynamoDB Streams reads (Lambda trigger)": (c.records, price["stream"], "DynamoDB", False),
        }

    per_run = [lines(lifecycle) for lifecycle in runs]

    def quantity(value: float) -> str:
        return f"{value:.3f}" if 0 < value < 1 else number(round(value, 2))

    rows = []
    for item in per_run[0]:
        cells: list[str] = []
        for found in per_run:
            amount, unit_price, _, _ = found[item]
            cells += [quantity(amount), f"{amount * unit_price * 1e6:,.2f}"]
        rows.append((item, *cells))
    totals = [sum(amount * unit * 1e6 for amount, unit, _, _ in found.values()) for found in per_run]
    rows.append(("total", *(cell for total in totals for cell in ("", f"{total:,.2f}"))))
    out()
    out("Cost per MILLION lifecycles, USD (qty = per lifecycle; Lambda requests of the stream function at worst):")
    headers = ["item"]
    for lifecycle in runs:
        headers += [f"{lifecycle.label} qty", "$/M"]
    table(headers, rows, right=range(1, 2 * len(runs) + 1))

    services = ("API Gateway", "Lambda", "Step Functions", "DynamoDB")
    share_rows = []
    for service in services:
        cells = []
        for found, total in zip(per_run, totals, strict=True):
            spent = sum(amount * unit * 1e6 for amount, unit, name, _ in found.values() if name == service)
            cells += [f"{spent:,.2f}", f"{spent / total:.0%}"]
        share_rows.append((service, *cells))
    cells = []
    for found, total in zip(per_run, totals, strict=True):
        spent = sum(amount * unit * 1e6 for amount, unit, _, timers in found.values() if timers)
        cells += [f"{spent:,.2f}", f"{spent / total:.0%}"]
    share_rows.append(("timers: transitions + timer & stream Lambdas", *cells))
    share_rows.append(("total", *(cell for total in totals for cell in (f"{total:,.2f}", "100%"))))
    out()
    headers = ["service"]
    for lifecycle in runs:
        headers += [f"{lifecycle.label} $/M", "share"]
    table(headers, share_rows, right=range(1, 2 * len(runs) + 1))
    out()
    happy = runs[0]
    transitions_per_timer = happy.entered / max(1, sum(happy.executions.values()))
    heartbeat = transitions_per_timer * PRICES["transition"][0] * 1e6
    out("Notes:")
    out("- WRU~/RRU~ are estimated from item sizes as in section 1. Transactional writes (every task change here)")
    out("  cost 2 WRU per KB of each item, so a transaction of small items costs twice its item count.")
    out(f"- {STREAM_FUNCTION} is invoked per batch in production (up to 100 records, within 1 s: the template's")
    out("  BatchSize and MaximumBatchingWindowInSeconds), so one invocation per record is an upper bound for low")
    out("  traffic, and the count falls as traffic grows. Stream reads by a Lambda trigger are free.")
    out(f"- Not run here: the webhook pipeline ({', '.join(WEBHOOK_FUNCTIONS)}); README prices it per delivery.")
    out("- A waiting Standard execution costs nothing: a timer is billed its transitions, however long it waits.")
    out("  Superseded timers are not stopped (taskboard/timers.py), so each still costs its transitions and one")
    out(f"  Lambda. Every heartbeat starts another expiry timer: ~{transitions_per_timer:.0f} more transitions")
    out(f"  (${heartbeat:,.2f} per million heartbeats) besides its own request, stream record and Lambdas.")
    out("- Not counted: the worker's GET /tasks/next and the poster's GET /tasks/{id}/result (section 1 has")
    out("  them), CloudWatch Logs, X-Ray (Tracing: Active), data transfer, free tiers.")


# ---- main ------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown", type=Path, help="also write the report to this file (docs/bench.md)")
    parser.add_argument(
        "--only",
        choices=("endpoints", "cold", "growth", "poll", "timers"),
        action="append",
        help="run only these parts",
    )
    args = parser.parse_args(argv)
    parts = {
        "endpoints": bench_endpoints,
        "cold": bench_cold_starts,
        "growth": bench_next_growth,
        "poll": bench_long_polls,
        "timers": bench_timers,
    }
    import moto

    started = time.perf_counter()
    out(f"Agent Task Board cost report, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    out(f"Python {platform.python_version()}, moto {moto.__version__}, {os.cpu_count()} CPUs")
    for name, run in parts.items():
        if not args.only or name in args.only:
            run()
    out()
    out(f"(bench took {time.perf_counter() - started:.0f} s)")
    if args.markdown:
        header = (
            f"Produced by `make bench` (this copy: `--markdown docs/bench.md`) on {datetime.now(UTC):%Y-%m-%d}.\n\n"
        )
        args.markdown.write_text(header + "```text\n" + _captured.getvalue().strip("\n") + "\n```\n")


if __name__ == "__main__":
    main()
