"""schemathesis over every operation of docs/openapi.json, against the local stack: no answer is a 5xx, and every
answer is one the document describes (status, content type, body schema).

Bounded (a few examples per operation, a fixed seed, a time cap), so it is a test, not a campaign: the seed makes a
failure reproducible (`st run ... --seed`). The path parameters name real objects (a task, a webhook, an agent),
so the operations behind them are reached, not only their 404s."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from local.openapi import OPENAPI_FILE
from tests.e2e.conftest import Live

pytestmark = pytest.mark.e2e

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
SEED = 20261201
MAX_SECONDS = 180


def test_fuzzing_every_operation_finds_no_server_error_and_no_undocumented_answer(live: Live, tmp_path: Path) -> None:
    # Given a board with one of each thing the paths name, and the fuzzer's own key
    fuzzer, poster = live.new_agent("fuzzer"), live.new_agent("poster")
    task = requests.post(
        f"{live.url}/tasks", json={"title": "fuzz me", "tags": ["fuzz"]}, headers={"x-api-key": poster.key}, timeout=60
    ).json()
    hook = requests.post(
        f"{live.url}/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers={"x-api-key": fuzzer.key}, timeout=60
    ).json()
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'[parameters]\ntask_id = "{task["id"]}"\nwebhook_id = "{hook["id"]}"\nagent_id = "{poster.id}"\n'
    )
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is a dev dependency (pyproject.toml)"

    # When schemathesis runs every operation with generated, boundary and example inputs
    command = [
        st,
        "--config-file",
        str(config),
        "run",
        str(OPENAPI_FILE),
        "--url",
        live.url,
        "--header",
        f"x-api-key: {fuzzer.key}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "3",
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--max-time",
        str(MAX_SECONDS),
        "--request-timeout",
        "30",
        "--no-color",
        "--warnings",
        "off",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=MAX_SECONDS + 120)

    # Then nothing failed
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    operations = sum(len(item) for item in json.loads(OPENAPI_FILE.read_text())["paths"].values())
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested and int(tested.group(1)) == operations, run.stdout[-3000:]  # every operation was reached
