"""`make bench`: python -m scripts.bench [--only SECTION[,SECTION]] [--markdown docs/bench.md] [cold options]."""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import scripts.bench
from scripts.bench import cold
from scripts.bench.report import out, write_markdown

warnings.filterwarnings("ignore", message="No application metrics to publish")


def sections(args: argparse.Namespace) -> dict[str, Callable[[], None]]:
    """Every section by its --only name, in the report's order; each module is imported only if it runs."""

    def endpoints() -> None:
        from scripts.bench import endpoints

        endpoints.run()

    def growth() -> None:
        from scripts.bench import growth

        growth.run()

    def poll() -> None:
        from scripts.bench import polls

        polls.run()

    def timers() -> None:
        from scripts.bench import timers

        timers.run()

    def local() -> None:
        from scripts.bench import local_stack

        local_stack.run(args.lifecycles)

    def cold_starts() -> None:
        cold.run(runs=args.cold_runs, wanted=args.functions, worst=args.cold_worst, jobs=args.cold_jobs)

    return {
        "endpoints": endpoints,
        "cold": cold_starts,
        "growth": growth,
        "poll": poll,
        "timers": timers,
        "local": local,
    }


def names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    doc = scripts.bench.__doc__ or ""
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=doc.splitlines()[0])
    parser.add_argument("--markdown", type=Path, help="also write the report to this file (docs/bench.md)")
    parser.add_argument(
        "--only",
        type=names,
        action="append",
        metavar="SECTION[,SECTION]",
        help="run only these sections: endpoints, cold, growth, poll, timers, local (repeatable)",
    )
    parser.add_argument(
        "--lifecycles", type=positive, default=200, help="sequential lifecycles of section 'local' (200)"
    )
    cold_options = parser.add_argument_group("cold starts (section 'cold')")
    cold_options.add_argument(
        "--functions",
        type=names,
        default=[],
        metavar="NAME[,NAME]",
        help="only these functions: code directory (create_task) or logical id (CreateTaskFunction)",
    )
    cold_options.add_argument(
        "--cold-runs",
        type=positive,
        default=cold.RUNS,
        help=f"runs per function, and as many of the bare handler ({cold.RUNS})",
    )
    cold_options.add_argument(
        "--cold-worst", type=int, default=cold.WORST, help=f"functions broken down under -X importtime ({cold.WORST})"
    )
    cold_options.add_argument(
        "--cold-jobs", type=positive, default=1, help="interpreters run side by side (1; CPU time is per process)"
    )
    args = parser.parse_args(argv)
    args.only = [name for group in args.only or [] for name in group]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    parts = sections(args)
    unknown = sorted(set(args.only) - set(parts))
    if unknown:
        raise SystemExit(f"--only: no section {', '.join(unknown)} (sections: {', '.join(parts)})")
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
        write_markdown(args.markdown)


if __name__ == "__main__":
    main()
