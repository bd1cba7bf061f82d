"""Section 2: every function's cold start as Lambda's init runs it, against a bare handler.

Each run is a fresh interpreter in the function's deployed environment (scripts/bench/lambda_env.py: Lambda's
variables, the template's, LAMBDA_TASK_ROOT, tracing on) that imports the handler's module and creates the first
DynamoDB client (scripts/bench/cold_probe.py), timed in CPU time. The bare handler (scripts/bench/bare/app.py:
boto3, pydantic, json) runs in the same environment, each of its runs next to one of the function's, and the
ratio of the medians is what the issue's targets bound (HTTP functions 1.3x, the authorizer 1.1x)."""

from __future__ import annotations

import compileall
import json
import platform
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from local.stack import LAYER
from local.template import load_template
from scripts.bench.lambda_env import BARE, ColdFunction, cold_functions, undeployed_packages
from scripts.bench.report import out, progress, section, table

PROBE = Path(__file__).resolve().parent / "cold_probe.py"
RUNS = 9  # pairs per function: with 5 the median of a small function still moved by +-0.1 between runs
WORST = 5  # functions shown under -X importtime
IMPORTTIME_RUNS = 3


@dataclass
class Timings:
    function: ColdFunction
    runs: list[float] = field(default_factory=list)  # import + client, CPU ms
    bare: list[float] = field(default_factory=list)  # the bare handler's, each run right next to one of `runs`
    imports: list[float] = field(default_factory=list)  # the import alone
    hidden: set[str] = field(default_factory=set)
    error: str = ""  # the function's module did not import (the layer mid-change): shown, not measured

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def bare_median(self) -> float:
        return statistics.median(self.bare)

    @property
    def ratio(self) -> float:
        """The median of each pair's ratio: a pair runs back to back, so a slower minute of a busy machine slows
        both of its runs and cancels out (the ratio of the two medians would not cancel it)."""
        return statistics.median(self.ratios)

    @property
    def ratios(self) -> list[float]:
        return sorted(ms / bare for ms, bare in zip(self.runs, self.bare, strict=True))

    @property
    def over(self) -> bool:
        return self.ratio > self.function.target


def probe(function: ColdFunction, hidden: Sequence[str], *flags: str) -> subprocess.CompletedProcess[str]:
    """One cold start of `function` in a fresh interpreter (-s -P: no user site, no script directory on sys.path;
    not -I, which would ignore the PYTHONPATH Lambda sets)."""
    command = [sys.executable, "-s", "-P", *flags, str(PROBE), function.module, ",".join(hidden)]
    done = subprocess.run(
        command, env=function.environment, cwd=function.code, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {function.name} failed:\n{done.stderr[-3000:]}")
    return done


def heaviest_packages(importtime: str) -> dict[str, float]:
    """Self import time (ms) summed per package (taskboard per sub-package), within the probe's markers."""
    per_package: dict[str, float] = defaultdict(float)
    inside = False
    for line in importtime.splitlines():
        if line.startswith("bench: import"):
            inside = line.endswith("start")
            continue
        if not inside or not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        parts = name.strip().split(".")
        package = ".".join(parts[:2]) if parts[0] == "taskboard" and len(parts) > 1 else parts[0]
        per_package[package] += int(self_us) / 1000
    return dict(per_package)


def importtime_profile(function: ColdFunction, hidden: Sequence[str], runs: int = IMPORTTIME_RUNS) -> dict[str, float]:
    """Each package's median self time over a few runs under -X importtime (one run is at the mercy of one
    moment of a busy machine)."""
    profiles = [heaviest_packages(probe(function, hidden, "-X", "importtime").stderr) for _ in range(runs)]
    packages = set().union(*profiles)
    return {name: statistics.median(profile.get(name, 0.0) for profile in profiles) for name in packages}


def select(functions: list[ColdFunction], wanted: Iterable[str]) -> list[ColdFunction]:
    names = [name.strip() for name in wanted if name.strip()]
    if not names:
        return functions
    unknown = [name for name in names if not any(function.matches(name) for function in functions)]
    if unknown:
        known = ", ".join(sorted({function.code.name for function in functions}))
        raise SystemExit(f"--functions: no function named {', '.join(unknown)} (known: {known})")
    return [function for function in functions if any(function.matches(name) for name in names)]


def measure(chosen: list[ColdFunction], hidden: list[str], runs: int, jobs: int) -> list[Timings]:
    timings = {function.name: Timings(function) for function in chosen}

    def pair(function: ColdFunction, bare_first: bool) -> None:
        timing = timings[function.name]
        if timing.error:
            return
        order = (function.bare(), function) if bare_first else (function, function.bare())
        for which in order:
            try:
                result = json.loads(probe(which, hidden).stdout)
            except RuntimeError as error:
                if which is not function:
                    raise
                timing.error = str(error).strip().splitlines()[-1]
                del timing.bare[len(timing.runs) :]  # its pair's bare run, if that went first
                return
            total = result["import_ms"] + result["client_ms"]
            if which is function:
                timing.runs.append(total)
                timing.imports.append(result["import_ms"])
                timing.hidden |= set(result["hidden"])
            else:
                timing.bare.append(total)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for run in range(runs):  # round robin, so a noisy moment spreads over all functions
            progress(f"cold starts, round {run + 1} of {runs} ({len(chosen)} functions, each next to the bare)")
            # which of a pair goes first alternates, so neither pays for the other's leftovers (caches, pages)
            list(pool.map(pair, chosen, [run % 2 == 1] * len(chosen)))
    return list(timings.values())


def run(runs: int = RUNS, wanted: Iterable[str] = (), worst: int = WORST, jobs: int = 1) -> None:
    section("2. Cold start per function (Lambda-like: fresh interpreter, import the handler + first DynamoDB client)")
    chosen = select(cold_functions(load_template()), wanted)
    hidden = undeployed_packages()
    # bytecode up to date first, so that no run pays for compiling (see the notes: deployed, it might)
    for directory in {LAYER, BARE, *(function.code for function in chosen)}:
        compileall.compile_dir(directory, quiet=2)
    probe(chosen[0].bare(), hidden)  # a first interpreter start warms the file cache for everyone
    timings = measure(chosen, hidden, runs, jobs)

    failed = [timing for timing in timings if timing.error]
    timings = [timing for timing in timings if not timing.error]
    rows: list[tuple[str, ...]] = []
    for timing in timings:
        spread = sorted(timing.runs)
        rows.append(
            (
                timing.function.name,
                timing.function.kind,
                f"{timing.median:.0f}",
                f"{spread[0]:.0f}-{spread[-1]:.0f}",
                f"{statistics.median(timing.imports):.0f}",
                f"{timing.bare_median:.0f}",
                f"{timing.ratio:.2f}x",
                f"{timing.ratios[0]:.2f}-{timing.ratios[-1]:.2f}",
                f"{timing.function.target:.1f}x",
                "OVER" if timing.over else "ok",
            )
        )
    rows += [(timing.function.name, timing.function.kind, *[""] * 7, "FAILED") for timing in failed]
    headers = ("function", "kind", "CPU ms", "range", "import", "bare ms", "ratio", "pairs", "target", "")
    table(headers, rows, right=(2, 3, 4, 5, 6, 7, 8))
    for timing in failed:
        out(f"{timing.function.name} did not import: {timing.error}")
    if not timings:
        return
    over = [timing for timing in timings if timing.over]
    bare = statistics.median(ms for timing in timings for ms in timing.bare)
    tried = sorted(set().union(*(timing.hidden for timing in timings)))
    out()
    out(f"Over the target: {len(over)} of {len(timings)} functions. The bare handler took a median {bare:.0f} ms.")
    out(f"CPU ms: the median of {runs} runs of import + boto3.client('dynamodb'), in CPU time (time.process_time);")
    out("import: the handler module's import alone. bare ms: the bare handler (boto3, pydantic, json, the same")
    out("client) in the function's environment, each run right before or after one of the function's. ratio: the")
    out("median of those pairs' ratios (a pair shares the machine's load), pairs: their range (the noise); targets:")
    out("HTTP functions 1.3x, the authorizer 1.1x, and 1.3x for the stream, queue and timer functions.")
    out("Each run is a fresh interpreter in the function's environment from template.yaml and Lambda's own")
    out("(LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME, AWS_EXECUTION_ENV, region, fake credentials), its CodeUri")
    out("and layers/common on PYTHONPATH, tracing on as deployed (Tracing: Active; the Tracer, and with it the X-Ray")
    out("SDK, is made on the first invocation: ~40 ms that the import no longer holds but the first request still")
    out("pays where tracing is on). Packages installed here but not deployed (this venv's dev tools) are")
    out(f"hidden from it; imports tried: {', '.join(tried) or 'none'}.")
    here = f"Python {platform.python_version()} on {platform.machine()}"
    out(f"{here}; Lambda runs the template's PythonRuntime on arm64 with a fraction of a CPU at 256 MB:")
    out("the ratios carry over, the milliseconds do not. Bytecode is compiled before the runs; deployed, the")
    out("function's and the layer's own modules may have no .pyc (a read-only /var/task cannot keep one), which")
    out("adds their compiling to every cold start.")
    report_importtime(sorted(timings, key=lambda timing: -timing.ratio)[:worst], hidden)


def report_importtime(worst: list[Timings], hidden: list[str]) -> None:
    if not worst:
        return
    progress(f"cold starts under -X importtime ({len(worst)} functions and the bare handler)")
    bare = importtime_profile(worst[0].function.bare(), hidden)
    rows = []
    for timing in worst:
        packages = importtime_profile(timing.function, hidden)
        heavy = sorted(packages.items(), key=lambda kv: -kv[1])[:5]
        extra = sorted(((name, ms - bare.get(name, 0.0)) for name, ms in packages.items()), key=lambda kv: -kv[1])
        rows.append(
            (
                timing.function.name,
                f"{timing.ratio:.2f}x",
                ", ".join(f"{name} {ms:.0f}" for name, ms in heavy),
                ", ".join(f"{name} +{ms:.0f}" for name, ms in extra[:5] if ms >= 1),
            )
        )
    out()
    out(f"The {len(worst)} worst under -X importtime (self ms per package, taskboard per sub-package; median of")
    out(f"{IMPORTTIME_RUNS} runs each):")
    table(("function", "ratio", "heaviest packages", "more than the bare handler imports"), rows, right=(1,))
    out()
    heavy_bare = sorted(bare.items(), key=lambda kv: -kv[1])[:5]
    out(f"Bare handler: {', '.join(f'{name} {ms:.0f}' for name, ms in heavy_bare)}.")
    out("-X importtime inflates what it measures: these columns show where the time goes, not how much. A")
    out("module's self time includes any garbage collection that ran during its import (a spike of ~20 ms on a")
    out("small module such as pickle or multiprocessing is a collection, paid for everything allocated so far).")
