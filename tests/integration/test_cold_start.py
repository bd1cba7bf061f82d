"""Every function's cold start as Lambda runs it: garbage collection paused while its modules load, back on (with
what they made frozen) once its module is built (taskboard/core/coldstart.py). A function that forgot to turn
it back on would run every request with no cyclic collection at all: this is the test that says so."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.template import load_template
from scripts.bench.lambda_env import ColdFunction, cold_functions

PROBE = """
import gc, importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps({"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""

FUNCTIONS = cold_functions(load_template())


def imported(function: ColdFunction, environment: dict[str, str]) -> dict[str, object]:
    """Import the function's handler module in a fresh interpreter, in its code directory, as Lambda's runtime
    does; what the collector looks like afterwards."""
    done = subprocess.run(
        [sys.executable, "-s", "-P", "-c", PROBE, function.module],
        env=environment,
        cwd=function.code,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{function.name} did not import:\n{done.stderr[-2000:]}"
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_every_function_turns_collection_back_on_when_its_module_is_built() -> None:
    assert len(FUNCTIONS) >= 45  # every function of the template (the bench lists them)
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(zip(FUNCTIONS, pool.map(lambda f: imported(f, f.environment), FUNCTIONS), strict=True))
    off = sorted(function.name for function, state in found if not state["enabled"])
    assert not off, f"garbage collection still off after the cold start of {off}"
    unfrozen = sorted(function.name for function, state in found if int(state["frozen"]) < 10_000)  # type: ignore[call-overload]
    assert not unfrozen, f"these cold starts were not paused and frozen: {unfrozen}"


@pytest.mark.parametrize("variable", ["LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_NAME"])
def test_off_lambda_nothing_changes(variable: str) -> None:
    function = next(function for function in FUNCTIONS if function.matches("get_task"))
    environment = {name: value for name, value in function.environment.items() if name != variable}
    assert imported(function, environment) == {"enabled": True, "frozen": 0}
