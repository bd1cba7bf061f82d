"""Section 4: the reads an idle long poll makes, from the poll interval (the board's sleep and clock simulated),
checked against a real (short) poll."""

from __future__ import annotations

import math
import time

from local.stack import Stack
from local.template import load_template
from scripts.bench import layer
from scripts.bench.api import UNLIMITED, BenchApi, Request, measure
from scripts.bench.recorder import Recorder
from scripts.bench.report import number, out, progress, section, table


class FakeTime:
    """Stands in for the board's monotonic clock and sleep: a 25 s poll runs in milliseconds, same code path."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run() -> None:
    template = load_template()
    poll = template["Parameters"]["PollIntervalSeconds"]
    default, low, high = float(poll["Default"]), int(poll["MinValue"]), int(poll["MaxValue"])
    wait = int(template["Globals"]["Function"]["Environment"]["Variables"]["MAX_POLL_SECONDS"])
    memory_gb = int(template["Parameters"]["LongPollMemorySize"]["Default"]) / 1024
    section(f"4. Idle long polls (timeout={wait}, nothing to find)")
    rows = []
    attempts: list[float] = []  # CPU ms per read attempt of each poll
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = BenchApi(stack), Recorder()
        poster, worker = api.agent("poster"), api.agent("worker")
        waiting = api.task(poster, tags=["setup"])
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
            search = layer.board()
            search.monotonic, search.sleep, search.poll_interval = fake.monotonic, fake.sleep, float(interval)
            if query == "result":
                request = Request("GET", f"/tasks/{waiting}/result", poster.key, query=f"timeout={wait}")
            else:
                request = Request("GET", "/tasks/next", worker.key, query=f"{query}&timeout={wait}")
            cpu = time.process_time()
            cost, response = measure(recorder, api, request)
            cpu_ms = (time.process_time() - cpu) * 1000
            assert response.status == 200, response.body
            attempts.append(cpu_ms / (1 + math.floor(wait / interval)))
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
    report_memory(sorted(attempts)[len(attempts) // 2], int(megabytes))
    bench_real_poll()


LAMBDA_MB_PER_VCPU = 1769  # Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB
GB_SECOND = 0.0000133334  # arm64, us-east-1


def report_memory(attempt_ms: float, chosen: int) -> None:
    """What a long poll's memory buys: the CPU time of one read attempt measured here, stretched by the share of
    a vCPU each size gets, against what an idle worker's waiting costs a month at that size."""
    rows = []
    for megabytes in (128, 256, 512):
        share = megabytes / LAMBDA_MB_PER_VCPU
        month = 150 * 24 * 30 * 24 * megabytes / 1024 * GB_SECOND  # 150 polls of 24 s an hour
        rows.append(
            (
                f"{megabytes}" + (" (template)" if megabytes == chosen else ""),
                f"{share:.0%}",
                f"{attempt_ms / share:,.0f}",
                f"${month:,.2f}",
            )
        )
    out()
    out(f"Memory: one read attempt of a poll takes {attempt_ms:.1f} ms of CPU here (the median above, moto's")
    out("in-process DynamoDB included, so an upper bound for the handler's own work). On Lambda that work")
    out("runs at the function's share of a vCPU:")
    table(("MemorySize MB", "vCPU share", "ms per attempt~", "idle worker, Lambda $/month"), rows, right=(1, 2, 3))
    out("A poll reads every POLL_INTERVAL_SECONDS (2 s), so even the smallest size finishes an attempt well inside")
    out("an interval, and a task posted while a worker polls is found within one interval plus one attempt: the")
    out("template gives the three long-poll functions the smallest size (LongPollMemorySize), with reserved")
    out("concurrency (LongPollConcurrency, 50 each) so waiting polls cannot take what the other functions need.")


def bench_real_poll() -> None:
    """The formula checked against a real poll with a short interval (real sleeps)."""
    interval = 0.3
    rows = []
    with Stack(environment=UNLIMITED | {"POLL_INTERVAL_SECONDS": str(interval)}) as stack:
        api, recorder = BenchApi(stack), Recorder()
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
