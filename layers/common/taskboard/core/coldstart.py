"""A Lambda cold start without garbage collections in the middle of it.

Importing a function allocates ~10^5 objects (boto3's and pydantic's modules, the models), every one of which
lives as long as the container; the cyclic collector, triggered every 700 allocations, walks them again and
again while they are made: 60-100 ms of a ~550 ms cold start, measured (docs/bench.md), and nothing to collect.
So on Lambda the package turns collection off when it is first imported (`begin`, from taskboard/__init__.py),
and each entry point, once its module is built, turns it back on after freezing what the import made
(`done`: gc.freeze moves those objects out of the collector's sight for good, so later collections in
requests do not walk them either). Anywhere else (tests, the local stack, scripts) nothing changes.
tests/integration/test_cold_start.py imports every function as Lambda does and checks collection is back on."""

from __future__ import annotations

import gc
import os

_paused = False


def on_lambda() -> bool:
    """Lambda's runtime sets both; nothing else here does (the local stack runs handlers in one process)."""
    return bool(os.environ.get("LAMBDA_TASK_ROOT") and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def begin() -> None:
    global _paused
    if on_lambda() and gc.isenabled():
        gc.disable()
        _paused = True


def done() -> None:
    """The function's module is built: what it made stays frozen, collection resumes. Idempotent."""
    global _paused
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False
