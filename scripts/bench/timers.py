"""Section 5: what the timers cost per task lifecycle (happy path, claim expiry, auto-complete): Step Functions
executions and state transitions, Lambda invocations, DynamoDB requests and stream records, counted on the local
stack (scripts/bench/lifecycles.py); then the cost per million lifecycles at AWS list prices."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from local.stack import Stack
from local.template import load_template
from scripts.bench.api import UNLIMITED
from scripts.bench.capacity import Cost
from scripts.bench.indexes import IndexWrites
from scripts.bench.lifecycles import (
    QUIET_SECONDS,
    STREAM_FUNCTION,
    TIMER_FUNCTIONS,
    TIMER_LEAD,
    TIMER_SECONDS,
    WEBHOOK_FUNCTIONS,
    CountingClient,
    Invocations,
    Lifecycle,
    OwnedRecorder,
    StartedExecutions,
    lifecycles,
    run_lifecycle,
)
from scripts.bench.report import number, out, progress, section, table
from taskboard.tasks.timers import BUCKET_SECONDS

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


def run() -> None:
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
        index_writes = IndexWrites(stack.template)
        try:
            poster, worker = api.agent("poster"), api.agent("worker")
            for lifecycle in runs:
                progress(f"timers: {lifecycle.label}")
                run_lifecycle(stack, api, recorder, started, poster, worker, lifecycle, index_writes)
        finally:
            index_writes.close()
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
        row("deadlines set (Deadlines index entries)", lambda c: c.records),
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
        row("WRU~ of the table's items", lambda c: number(Cost.of(c.calls_made).wcu)),
        row("WRU~ of its indexes (GSI writes)", lambda c: number(sum(c.index_units.values()))),
        row("  by index", lambda c: ", ".join(f"{n} {k}" for k, n in sorted(c.index_units.items())) or "-"),
        row("WRU~, all", lambda c: number(wru(c))),
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


def wru(c: Lifecycle) -> float:
    """Every write unit DynamoDB would bill the lifecycle: the table's items and its indexes' entries."""
    return Cost.of(c.calls_made).wcu + sum(c.index_units.values())


# Lifecycles a month the timers' cost is shown at: deadlines share a bucket's execution more as volume grows.
VOLUMES = (1_000, 100_000, 10_000_000)
MONTH_SECONDS = 30 * 86_400


def executions_per_lifecycle(deadlines: float, volume: int) -> float:
    """Bucket executions per lifecycle when `volume` lifecycles a month each set `deadlines` deadlines, spread
    uniformly over the month (the worst case for sharing: bursts share more). A month has B buckets; with D
    deadlines, B * (1 - e^(-D/B)) of them hold at least one (each such bucket is one execution)."""
    buckets = MONTH_SECONDS / BUCKET_SECONDS
    total = deadlines * volume
    return buckets * (1 - math.exp(-total / buckets)) / volume if total else 0.0


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
    price = {key: value[0] for key, value in PRICES.items()}

    def lines(c: Lifecycle, volume: int | None) -> dict[str, tuple[float, float, str, bool]]:
        """item -> (quantity per lifecycle, price per unit, service, counts as timers). With a `volume`, the
        bucket executions (their transitions and firing Lambdas) are shared as executions_per_lifecycle says;
        without, as measured (each lifecycle alone: nothing shared with another lifecycle)."""
        cost = Cost.of(c.calls_made)
        executions = sum(c.executions.values())
        share = 1.0 if volume is None or not executions else executions_per_lifecycle(c.records, volume) / executions
        api_lambdas, timer_lambdas = c.api_invocations, c.invoked(*TIMER_FUNCTIONS) * share
        authorizer = len(c.api)  # every call here carries a key, and API Gateway's authorizer cache is off
        return {
            "API Gateway requests": (len(c.api), price["api"], "API Gateway", False),
            "Lambda requests, API functions": (api_lambdas, price["lambda_request"], "Lambda", False),
            "Lambda requests, authorizer": (authorizer, price["lambda_request"], "Lambda", False),
            f"Lambda requests, {STREAM_FUNCTION} (1 per record)": (c.records, price["lambda_request"], "Lambda", True),
            "Lambda requests, FireTimers (1 per bucket)": (timer_lambdas, price["lambda_request"], "Lambda", True),
            "Lambda GB-s, API functions + authorizer": (
                (api_lambdas + authorizer) * gb_s,
                price["lambda_gb_s"],
                "Lambda",
                False,
            ),
            "Lambda GB-s, stream + timer functions": (
                (c.records + timer_lambdas) * gb_s,
                price["lambda_gb_s"],
                "Lambda",
                True,
            ),
            "Step Functions state transitions": (
                (c.entered + c.retries) * share,
                price["transition"],
                "Step Functions",
                True,
            ),
            "DynamoDB write request units~, table": (cost.wcu, price["wru"], "DynamoDB", False),
            "DynamoDB write request units~, indexes": (sum(c.index_units.values()), price["wru"], "DynamoDB", False),
            "DynamoDB read request units~": (cost.rcu, price["rru"], "DynamoDB", False),
            "DynamoDB Streams reads (Lambda trigger)": (c.records, price["stream"], "DynamoDB", False),
        }

    def floor(c: Lifecycle) -> float:
        """What the lifecycle's API calls cost at the least: each request through API Gateway, its function and
        the authorizer (one invocation each, at the duration above), and one standard write unit per request
        (each call here changes the task: one item of under 1 KB is the least a durable change writes). No
        timers, no indexes, no events."""
        requests = len(c.api)
        lambdas = 2 * requests
        dollars = requests * price["api"] + lambdas * (price["lambda_request"] + gb_s * price["lambda_gb_s"])
        return (dollars + requests * price["wru"]) * 1e6

    def total(found: dict[str, tuple[float, float, str, bool]]) -> float:
        return sum(amount * unit * 1e6 for amount, unit, _, _ in found.values())

    per_run = [lines(lifecycle, None) for lifecycle in runs]

    def quantity(value: float) -> str:
        return f"{value:.3f}" if 0 < value < 1 else number(round(value, 2))

    rows = []
    for item in per_run[0]:
        cells: list[str] = []
        for found in per_run:
            amount, unit_price, _, _ = found[item]
            cells += [quantity(amount), f"{amount * unit_price * 1e6:,.2f}"]
        rows.append((item, *cells))
    totals = [total(found) for found in per_run]
    rows.append(("total", *(cell for value in totals for cell in ("", f"{value:,.2f}"))))
    rows.append(("floor (see below)", *(cell for c in runs for cell in ("", f"{floor(c):,.2f}"))))
    out()
    out("Cost per MILLION lifecycles, USD, each lifecycle alone (its deadlines share a bucket with no other")
    out("lifecycle's; qty = per lifecycle; Lambda requests of the stream function at worst):")
    headers = ["item"]
    for lifecycle in runs:
        headers += [f"{lifecycle.label} qty", "$/M"]
    table(headers, rows, right=range(1, 2 * len(runs) + 1))

    services = ("API Gateway", "Lambda", "Step Functions", "DynamoDB")
    share_rows = []
    for service in services:
        cells = []
        for found, whole in zip(per_run, totals, strict=True):
            spent = sum(amount * unit * 1e6 for amount, unit, name, _ in found.values() if name == service)
            cells += [f"{spent:,.2f}", f"{spent / whole:.0%}"]
        share_rows.append((service, *cells))
    cells = []
    for found, whole in zip(per_run, totals, strict=True):
        spent = sum(amount * unit * 1e6 for amount, unit, _, timers in found.values() if timers)
        cells += [f"{spent:,.2f}", f"{spent / whole:.0%}"]
    share_rows.append(("timers: transitions + timer & stream Lambdas", *cells))
    share_rows.append(("total", *(cell for value in totals for cell in (f"{value:,.2f}", "100%"))))
    out()
    headers = ["service"]
    for lifecycle in runs:
        headers += [f"{lifecycle.label} $/M", "share"]
    table(headers, share_rows, right=range(1, 2 * len(runs) + 1))

    out()
    out(f"By volume: deadlines share their bucket's execution ({BUCKET_SECONDS} s buckets, one execution each) with")
    out("every other deadline of the same bucket, so the transitions and firing Lambdas per lifecycle fall as")
    out("lifecycles a month grow (deadlines spread uniformly over a 30-day month: the worst case for sharing).")
    volume_rows = []
    for c in runs:
        for volume in VOLUMES:
            found = lines(c, volume)
            executions = executions_per_lifecycle(c.records, volume)
            transitions = found["Step Functions state transitions"][0]
            timers = sum(amount * unit * 1e6 for amount, unit, _, is_timer in found.values() if is_timer)
            whole = total(found)
            volume_rows.append(
                (
                    c.label,
                    f"{volume:,}",
                    c.records,
                    f"{executions:.3f}",
                    f"{transitions:.3f}",
                    f"{timers:,.2f}",
                    f"{whole:,.2f}",
                    f"{floor(c):,.2f}",
                    f"{whole / floor(c):.2f}x",
                )
            )
    out()
    table(
        (
            "lifecycle",
            "lifecycles/month",
            "deadlines",
            "executions/lifecycle",
            "transitions/lifecycle",
            "timers $/M",
            "total $/M",
            "floor $/M",
            "total/floor",
        ),
        volume_rows,
        right=range(1, 9),
    )
    happy = runs[0]
    out()
    out("Notes:")
    out("- The floor: each API request through API Gateway, its function and the authorizer (one invocation")
    out(f"  each, {billed_ms} ms), and one standard write unit per request; no timers, indexes or events.")
    out("- WRU~/RRU~ are estimated from item sizes as in section 1. Transactional writes (every task change here)")
    out("  cost 2 WRU per KB of each item, so a transaction of small items costs twice its item count. Index")
    out("  (GSI) writes are priced from every write's old and new image by DynamoDB's rules (scripts/bench/")
    out("  indexes.py): a new or removed entry 1 unit per KB, a moved one (its index keys changed) both.")
    out(f"- {STREAM_FUNCTION} is invoked per batch in production (up to 100 records, within 1 s: the template's")
    out("  BatchSize and MaximumBatchingWindowInSeconds), and only for task states that set a deadline (its")
    out("  filter), so one invocation per record is an upper bound. Stream reads by a Lambda trigger are free.")
    out(f"- Not run here: the webhook pipeline ({', '.join(WEBHOOK_FUNCTIONS)}); README prices it per delivery.")
    out("- A waiting Standard execution costs nothing: a bucket is billed its transitions (Wait + Task), however")
    out("  long it waits, and once for all its deadlines. A deadline that moves on (a delivery, a completion, a")
    out("  heartbeat's later expiry) leaves the index in the same transaction: nothing fires it. Here the happy")
    out(f"  path's buckets fire and find nothing ({', '.join(happy.outcomes) or '-'}); a heartbeat costs 2 index")
    out("  write units (its entry moves) and a share of the new deadline's bucket.")
    out("- Not counted: the worker's GET /tasks/next and the poster's GET /tasks/{id}/result (section 1 has")
    out("  them), CloudWatch Logs, X-Ray (Tracing: Active), data transfer, free tiers.")
