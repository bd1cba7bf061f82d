"""End to end over real HTTP: the local server (what `make run` serves) driven with `requests`, like curl would.

Every test here talks to the API through a socket only; the stack behind it is the same one the integration
tests call in-process."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from local.template import ROOT, function_routes, load_template
from tests.e2e.conftest import Live
from tests.support import QUICKSTART_SCHEMA, Agent

pytestmark = pytest.mark.e2e

TIMEOUT = 60  # seconds any one HTTP call may take before the test gives up on it (a slow CI machine)
# The simultaneous-request tests switch threads every microsecond (to surface requests seeing each other's
# state) while moto copies the whole shared table on each write: answers are slow there, not missing. This
# bounds a hang, not a speed.
CONCURRENT_TIMEOUT = 120


def auth(agent: Agent) -> dict[str, str]:
    return {"x-api-key": agent.key}


def post_task(live: Live, agent: Agent, **fields: Any) -> dict[str, Any]:
    response = requests.post(
        f"{live.url}/tasks", json={"title": "a task", **fields}, headers=auth(agent), timeout=TIMEOUT
    )
    assert response.status_code == 201, response.text
    return response.json()


def unique_skill() -> str:
    """A tag no other test uses, so tests sharing the module's stack never find each other's tasks."""
    return f"skill-{uuid.uuid4().hex[:12]}"


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """`response` is the one error shape, with `status` (and `code`, when given)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    if code is not None:
        assert body["code"] == code, body
    return body


# ---- (a) the AgentDo quick start, as a curl user does it ----------------------------------------------------


def test_agentdo_quickstart_over_http(live: Live) -> None:
    url = live.url
    # Two agents get keys
    poster, worker = live.new_agent("poster"), live.new_agent("worker")
    assert poster.key.startswith("atb_") and poster.id != worker.id

    # The poster posts a task with an output_schema
    created = requests.post(
        f"{url}/tasks",
        json={
            "title": "Scrape LA zip codes",
            "input": {"region": "LA"},
            "output_schema": QUICKSTART_SCHEMA,
            "tags": ["scraping", "data"],
            "timeout_minutes": 30,
        },
        headers=auth(poster),
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["status"] == "open" and task["poster_id"] == poster.id and task["timeout_seconds"] == 1800

    # The worker finds it with a long poll and claims it
    found = requests.get(
        f"{url}/tasks/next", params={"skills": "scraping,data", "timeout": 2}, headers=auth(worker), timeout=TIMEOUT
    )
    assert found.status_code == 200, found.text
    assert found.json()["task"]["id"] == task["id"] and found.json()["retry"] is False
    claimed = requests.post(
        f"{url}/tasks/{task['id']}/claim", json={"agent_id": "mybot@example.com"}, headers=auth(worker), timeout=TIMEOUT
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "claimed" and claimed.json()["claimed_by"] == worker.id
    assert claimed.json()["agent_id"] == "mybot@example.com"

    # A delivery that breaks the schema: 422, every error named by its JSON pointer, task still claimed
    bad = requests.post(
        f"{url}/tasks/{task['id']}/deliver", json={"result": [{"zip": 90210}]}, headers=auth(worker), timeout=TIMEOUT
    )
    body = assert_error(bad, 422, "result_invalid")
    assert "/0/zip must be string" in body["validation_errors"]
    assert "/0 must have required property 'median_value'" in body["validation_errors"]
    assert body["expected_schema"] == QUICKSTART_SCHEMA
    assert requests.get(f"{url}/tasks/{task['id']}", timeout=TIMEOUT).json()["status"] == "claimed"

    # A good one is accepted
    good = [{"zip": "90210", "median_value": 3500000}]
    delivered = requests.post(
        f"{url}/tasks/{task['id']}/deliver", json={"result": good}, headers=auth(worker), timeout=TIMEOUT
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"

    # The poster waits for the result and gets it at once
    result = requests.get(
        f"{url}/tasks/{task['id']}/result", params={"timeout": 5}, headers=auth(poster), timeout=TIMEOUT
    )
    assert result.status_code == 200, result.text
    assert result.json()["status"] == "delivered" and result.json()["result"] == good
    assert result.json()["retry"] is False

    # ... and completes it
    completed = requests.post(f"{url}/tasks/{task['id']}/complete", headers=auth(poster), timeout=TIMEOUT)
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    assert requests.get(f"{url}/tasks/{task['id']}", timeout=TIMEOUT).json()["status"] == "completed"


# ---- (b) long polls answered mid-wait -------------------------------------------------------------------------


def _in_thread(call: Callable[[], requests.Response]) -> tuple[threading.Thread, dict[str, Any]]:
    """Start `call` in a thread; the dict gets its response and how long it took."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["response"] = call()
        except Exception as error:  # surfaced by the test's assertions
            outcome["error"] = error
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_next_task_long_poll_is_answered_when_a_task_is_posted(live: Live) -> None:
    poster, worker = live.new_agent("poster"), live.new_agent("worker")
    skill = unique_skill()
    thread, outcome = _in_thread(
        lambda: requests.get(
            f"{live.url}/tasks/next", params={"skills": skill, "timeout": 5}, headers=auth(worker), timeout=TIMEOUT
        )
    )
    time.sleep(0.5)
    assert thread.is_alive(), outcome  # still waiting: nothing to find yet
    task = post_task(live, poster, title="appears mid-poll", tags=[skill])
    thread.join(timeout=TIMEOUT)
    assert "error" not in outcome, outcome
    response = outcome["response"]
    assert response.status_code == 200, response.text
    assert response.json()["task"]["id"] == task["id"] and response.json()["retry"] is False
    assert 0.4 <= outcome["elapsed"] < 3, outcome["elapsed"]


def test_next_task_long_poll_without_work_says_retry_after_the_timeout(live: Live) -> None:
    worker = live.new_agent("worker")
    started = time.monotonic()
    response = requests.get(
        f"{live.url}/tasks/next", params={"skills": unique_skill(), "timeout": 1}, headers=auth(worker), timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"task": None, "retry": True, "cursor": None}
    assert 0.8 <= time.monotonic() - started < 5


def test_result_long_poll_is_answered_when_the_worker_delivers(live: Live) -> None:
    poster, worker = live.new_agent("poster"), live.new_agent("worker")
    task = post_task(live, poster, tags=[unique_skill()])
    claimed = requests.post(f"{live.url}/tasks/{task['id']}/claim", headers=auth(worker), timeout=TIMEOUT)
    assert claimed.status_code == 200, claimed.text
    thread, outcome = _in_thread(
        lambda: requests.get(
            f"{live.url}/tasks/{task['id']}/result", params={"timeout": 5}, headers=auth(poster), timeout=TIMEOUT
        )
    )
    time.sleep(0.5)
    assert thread.is_alive(), outcome
    delivered = requests.post(
        f"{live.url}/tasks/{task['id']}/deliver", json={"result": {"answer": 42}}, headers=auth(worker), timeout=TIMEOUT
    )
    assert delivered.status_code == 200, delivered.text
    thread.join(timeout=TIMEOUT)
    assert "error" not in outcome, outcome
    response = outcome["response"]
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "delivered" and response.json()["result"] == {"answer": 42}
    assert response.json()["retry"] is False
    assert 0.4 <= outcome["elapsed"] < 3, outcome["elapsed"]


# ---- (c) bad input: 4xx in the one error shape, never 5xx -----------------------------------------------------


@pytest.fixture(scope="module")
def agent(live: Live) -> Agent:
    return live.new_agent("prodder")


def test_malformed_json_is_400(live: Live, agent: Agent) -> None:
    response = requests.post(
        f"{live.url}/tasks",
        data='{"title": "unterminated',
        headers={**auth(agent), "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert_error(response, 400, "invalid_json")


def test_json_nested_100k_deep_is_400(live: Live, agent: Agent) -> None:
    for body in ("[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"title": ' + "[" * 50_000 + "]" * 50_000 + "}"):
        response = requests.post(
            f"{live.url}/tasks", data=body, headers={**auth(agent), "Content-Type": "application/json"}, timeout=TIMEOUT
        )
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
        assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "body",
    [
        {"title": 5},
        {"title": "ok", "tags": "scraping"},
        {"title": "ok", "tags": [1, 2]},
        {"title": "ok", "max_attempts": "3"},
        {"title": "ok", "requires_human": "yes"},
        {"title": "ok", "timeout_minutes": 1.5},
        {"title": "ok", "output_schema": ["not", "an", "object"]},
        {"title": "ok", "unknown_field": 1},
        {"title": "ok", "tags": ["Not A Tag!"]},
        {"title": "ok", "timeout_minutes": 5, "timeout_seconds": 300},
        ["a", "list"],
        "a string",
        None,
    ],
    ids=lambda body: json.dumps(body)[:40],
)
def test_wrong_types_are_400(live: Live, agent: Agent, body: Any) -> None:
    response = requests.post(
        f"{live.url}/tasks",
        data=json.dumps(body),
        headers={**auth(agent), "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert_error(response, 400)


def test_title_of_201_characters_is_400_and_200_is_fine(live: Live, agent: Agent) -> None:
    too_long = requests.post(f"{live.url}/tasks", json={"title": "x" * 201}, headers=auth(agent), timeout=TIMEOUT)
    body = assert_error(too_long, 400, "invalid_request")
    assert "title" in body["error"]
    just_right = requests.post(f"{live.url}/tasks", json={"title": "x" * 200}, headers=auth(agent), timeout=TIMEOUT)
    assert just_right.status_code == 201, just_right.text


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ2IjogMSwgImsiOiAiMjAyNi0wMS0wMSJ9"},  # {"v": 1, "k": "2026-01-01"}: not a sort key
        {"skills": "Bad Skill!"},
        {"requires_human": "maybe"},
    ],
    ids=lambda query: "&".join(f"{k}={v}" for k, v in query.items()),
)
def test_bad_list_queries_are_400(live: Live, query: dict[str, Any]) -> None:
    response = requests.get(f"{live.url}/tasks", params=query, timeout=TIMEOUT)
    assert_error(response, 400)


def test_list_limit_bounds_and_a_bad_cursor_code(live: Live) -> None:
    assert requests.get(f"{live.url}/tasks", params={"limit": 1}, timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{live.url}/tasks", params={"limit": 100}, timeout=TIMEOUT).status_code == 200
    assert_error(
        requests.get(f"{live.url}/tasks", params={"cursor": "garbage!"}, timeout=TIMEOUT), 400, "invalid_cursor"
    )
    assert_error(requests.get(f"{live.url}/tasks", params={"status": "bogus"}, timeout=TIMEOUT), 400, "invalid_request")


def test_long_poll_timeouts_out_of_range_are_400(live: Live, agent: Agent) -> None:
    for timeout in (-1, 26, "soon"):
        response = requests.get(
            f"{live.url}/tasks/next", params={"timeout": timeout}, headers=auth(agent), timeout=TIMEOUT
        )
        assert_error(response, 400, "invalid_request")


def test_invalid_output_schema_is_400(live: Live, agent: Agent) -> None:
    response = requests.post(
        f"{live.url}/tasks",
        json={"title": "t", "output_schema": {"type": "nope"}},
        headers=auth(agent),
        timeout=TIMEOUT,
    )
    assert_error(response, 400, "invalid_output_schema")


def test_remote_ref_in_output_schema_is_400(live: Live, agent: Agent) -> None:
    response = requests.post(
        f"{live.url}/tasks",
        json={"title": "t", "output_schema": {"$ref": "https://example.com/s.json"}},
        headers=auth(agent),
        timeout=TIMEOUT,
    )
    body = assert_error(response, 400, "invalid_output_schema")
    assert body["locations"] == ["/$ref"]


def test_unknown_task_id_is_404(live: Live, agent: Agent) -> None:
    for task_id in (str(uuid.uuid4()), "not-a-uuid", "x" * 300):
        assert_error(requests.get(f"{live.url}/tasks/{task_id}", timeout=TIMEOUT), 404, "task_not_found")
        claim = requests.post(f"{live.url}/tasks/{task_id}/claim", headers=auth(agent), timeout=TIMEOUT)
        assert_error(claim, 404, "task_not_found")
        result = requests.get(f"{live.url}/tasks/{task_id}/result", headers=auth(agent), timeout=TIMEOUT)
        assert_error(result, 404, "task_not_found")


def test_missing_or_unknown_key_is_401(live: Live) -> None:
    fake = "atb_" + "A" * 43
    for headers in ({}, {"x-api-key": fake}, {"Authorization": f"Bearer {fake}"}, {"x-api-key": "short"}):
        response = requests.post(f"{live.url}/tasks", json={"title": "t"}, headers=headers, timeout=TIMEOUT)
        assert_error(response, 401, "unauthorized")


def test_body_over_256_kb_is_413(live: Live, agent: Agent) -> None:
    body = json.dumps({"title": "big", "input": "x" * (256 * 1024)})
    response = requests.post(
        f"{live.url}/tasks", data=body, headers={**auth(agent), "Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert_error(response, 413, "payload_too_large")


def test_unknown_route_or_method_is_404(live: Live) -> None:
    assert_error(requests.get(f"{live.url}/nope", timeout=TIMEOUT), 404, "not_found")
    assert_error(requests.get(f"{live.url}/tasks/a/b/c/d", timeout=TIMEOUT), 404, "not_found")
    assert_error(requests.delete(f"{live.url}/tasks", timeout=TIMEOUT), 404, "not_found")


def test_curl_d_form_encoded_body_is_read_as_json(live: Live, agent: Agent) -> None:
    # `curl -d '{"title": ...}'` sends Content-Type: application/x-www-form-urlencoded
    response = requests.post(
        f"{live.url}/tasks",
        data='{"title": "posted with curl -d", "tags": ["curl"]}',
        headers={**auth(agent), "Content-Type": "application/x-www-form-urlencoded"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "posted with curl -d" and response.json()["tags"] == ["curl"]
    keys = requests.post(
        f"{live.url}/keys",
        data='{"name": "curl user"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=TIMEOUT,
    )
    assert keys.status_code == 201, keys.text


def test_openapi_json_describes_every_template_path(live: Live) -> None:
    response = requests.get(f"{live.url}/openapi.json", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.")
    routes = function_routes(load_template())
    assert routes
    for route in routes:
        assert route.path in document["paths"], route.path
        assert route.method.lower() in document["paths"][route.path], (route.method, route.path)


# ---- (d) concurrency: in tests/e2e/test_concurrency_http.py, each test on a stack of its own -----------------


# ---- (e) `make run` itself ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_make_run_serves_and_stops_cleanly_on_ctrl_c() -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "PORT": str(port), "QUIET": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.server"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    printed: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while not any(base in line for line in printed):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no base URL printed in 30 s: {printed}"
            line = lines.get(timeout=remaining)
            assert line is not None, f"server exited early ({process.wait()}): {''.join(printed)}"
            printed.append(line)

        made = requests.post(f"{base}/keys", json={"name": "make run"}, timeout=TIMEOUT)
        assert made.status_code == 201, made.text
        key = made.json()["key"]
        listed = requests.get(f"{base}/tasks", headers={"x-api-key": key}, timeout=TIMEOUT)
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"tasks": [], "next_cursor": None}

        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    while (line := lines.get(timeout=5)) is not None:
        printed.append(line)
    output = "".join(printed)
    assert code == 0, output
    assert f"at {base}" in output
    assert f"curl -s -X POST {base}/keys" in output
    assert "stopped" in output and "Traceback" not in output, output
