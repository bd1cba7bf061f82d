"""Does the local stack stay fast and small as it is used? (issue 14, item 6) A report, never assertions.

Starts the local stack behind its HTTP server (as `make run` does, with the tests' settings: fast polls, rate
limits out of reach), runs N sequential task lifecycles over HTTP (post, claim, deliver, complete; every claim
and delivery starts a Step Functions timer that then waits), and prints the median lifecycle of the first 10
and of the last 10, their ratio, the process's RSS afterwards and its thread count.

    .venv/bin/python -m scripts.bench --only local [--lifecycles 200]

The lifecycles run in a fresh interpreter, so the RSS and thread count are the local stack's alone, not the
bench's other sections'.

Targets: last-10 median at most 1.5x the first-10 one; RSS after 200 lifecycles under 1 GB."""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from local.stack import LAYER
from scripts.bench.report import out, progress, section
from tests.conftest import TEST_ENVIRONMENT
from tests.e2e.conftest import Live, serve
from tests.support import Agent

if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))

WINDOW = 10  # lifecycles in the first and in the last sample
TIMEOUT = 60


def rss_mb() -> float:
    """This process's resident set size in MB (Linux: VmRSS of /proc/self/status), 0 where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _call(session: requests.Session, method: str, url: str, agent: Agent, body: Any = None) -> dict[str, Any]:
    response = session.request(method, url, json=body, headers={"x-api-key": agent.key}, timeout=TIMEOUT)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


def lifecycle(session: requests.Session, live: Live, poster: Agent, worker: Agent, n: int) -> None:
    """One task from post to completion, as two agents would drive it over HTTP."""
    task = _call(session, "POST", f"{live.url}/tasks", poster, {"title": f"bench task {n}", "input": {"n": n}})
    path = f"{live.url}/tasks/{task['id']}"
    _call(session, "POST", f"{path}/claim", worker)
    _call(session, "POST", f"{path}/deliver", worker, {"result": {"answer": n}})
    completed = _call(session, "POST", f"{path}/complete", poster)
    if completed.get("status") != "completed":
        raise RuntimeError(f"lifecycle {n} ended {completed.get('status')!r}")


def measure(lifecycles: int = 200) -> dict[str, float]:
    """Run `lifecycles` sequential lifecycles on a fresh local stack; the numbers, measured before it stops."""
    if lifecycles < 1:
        raise ValueError("at least one lifecycle")
    durations: list[float] = []
    started = time.perf_counter()
    with serve(dict(TEST_ENVIRONMENT)) as live, requests.Session() as session:
        poster, worker = live.new_agent("bench poster"), live.new_agent("bench worker")
        for n in range(lifecycles):
            begun = time.perf_counter()
            lifecycle(session, live, poster, worker, n)
            durations.append((time.perf_counter() - begun) * 1000)
        elapsed = time.perf_counter() - started
        gc.collect()
        rss, threads = rss_mb(), threading.active_count()
        errors = sum(len(poller.errors) for poller in live.stack.pollers)
    first = statistics.median(durations[:WINDOW])
    last = statistics.median(durations[-WINDOW:])
    return {
        "lifecycles": float(lifecycles),
        "first_median_ms": first,
        "last_median_ms": last,
        "ratio": last / first if first else float("inf"),
        "rss_mb": rss,
        "threads": float(threads),
        "seconds": elapsed,
        "poller_errors": float(errors),
    }


def run(lifecycles: int = 200) -> None:
    """Section 6 of the report: `measure` in its own interpreter."""
    section(f"6. The local stack over {lifecycles} sequential lifecycles (make run, the test fixtures)")
    progress(f"  .. {lifecycles} lifecycles over HTTP")
    code = f"import json; from scripts.bench.local_stack import measure; print(json.dumps(measure({lifecycles})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        out(f"FAILED: {done.stderr.strip()[-800:]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    window = min(WINDOW, lifecycles)
    out(f"{lifecycles} sequential lifecycles (post, claim, deliver, complete) over HTTP in {result['seconds']:.0f} s")
    out(f"  median lifecycle, first {window}: {result['first_median_ms']:8.0f} ms")
    out(f"  median lifecycle, last {window}:  {result['last_median_ms']:8.0f} ms")
    out(f"  ratio last/first:          {result['ratio']:8.2f}x  (target <= 1.5x)")
    out(f"  RSS after:                 {result['rss_mb']:8.0f} MB  (target < 1024 MB)")
    out(f"  threads after:             {result['threads']:8.0f}  (a waiting timer holds none: local/moto_patches.py)")
    if result["poller_errors"]:
        out(f"  stream/queue poller errors: {result['poller_errors']:.0f}")
