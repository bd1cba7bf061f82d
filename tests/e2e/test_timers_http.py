"""Timers on the running local stack, with real deadlines: left alone, a claim lapses and a delivery is
accepted, through the Step Functions timers (their events exist), within seconds of the deadline, and the
credits of paid tasks move with them (issue 6: "a task left delivered pays out through the auto-complete
timer")."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from taskboard.core.clock import from_iso, utc_now
from taskboard.runtime import board
from taskboard.tasks.timers import BUCKET_SECONDS
from tests.e2e.conftest import Live


def call(live: Live, method: str, path: str, key: str, body: Any = None) -> dict[str, Any]:
    response = requests.request(method, f"{live.url}{path}", json=body, headers={"x-api-key": key}, timeout=30)
    assert response.status_code < 300, response.text
    return response.json()


def watch(live: Live, task_id: str, event_type: str, deadline: str) -> tuple[dict[str, Any], float]:
    """Wait (at most 15 s past `deadline`) for the timer's event; returns the task and the lateness."""
    limit = from_iso(deadline).timestamp() + 15
    while time.time() < limit:
        events = board().events(task_id)
        fired = [e for e in events if e["type"] == event_type]
        if fired:
            task = requests.get(f"{live.url}/tasks/{task_id}", timeout=10).json()
            return task, (from_iso(fired[0]["timestamp"]) - from_iso(deadline)).total_seconds()
        time.sleep(0.25)
    raise AssertionError(f"no {event_type} for {task_id} within 15 s of {deadline}")


def test_untouched_claims_and_deliveries_move_on_by_themselves(live: Live) -> None:
    poster, worker = live.new_agent("poster"), live.new_agent("worker")
    retry = call(live, "POST", "/tasks", poster.key, {"title": "expires", "timeout_seconds": 30, "max_attempts": 2})
    last = call(
        live, "POST", "/tasks", poster.key, {"title": "fails", "timeout_seconds": 30, "max_attempts": 1, "budget": 10}
    )
    left = call(live, "POST", "/tasks", poster.key, {"title": "accepted", "auto_complete_seconds": 30, "budget": 25})
    assert call(live, "GET", "/wallet", poster.key)["escrowed"] == 35
    claims = {t["id"]: call(live, "POST", f"/tasks/{t['id']}/claim", worker.key) for t in (retry, last, left)}
    delivered = call(live, "POST", f"/tasks/{left['id']}/deliver", worker.key, {"result": {"ok": True}})
    started = utc_now()

    with ThreadPoolExecutor(3) as pool:
        reopened, failed, completed = pool.map(
            lambda args: watch(live, *args),
            [
                (retry["id"], "task.expired", claims[retry["id"]]["expires_at"]),
                (last["id"], "task.failed", claims[last["id"]]["expires_at"]),
                (left["id"], "task.completed", delivered["auto_complete_at"]),
            ],
        )

    assert (utc_now() - started).total_seconds() >= 25  # nothing happened before the deadlines
    for (task, lateness), status in zip((reopened, failed, completed), ("open", "failed", "completed"), strict=True):
        assert task["status"] == status
        assert 0 <= lateness < BUCKET_SECONDS + 3, lateness  # within its bucket (and the firing), never before
    # written by the timer, not only read as lapsed: the stored state says so too
    for task_id, status in ((retry["id"], "open"), (last["id"], "failed")):
        stored = board().tasks.load(task_id)
        assert stored is not None and stored.state.status == status
    auto = [e for e in board().events(left["id"]) if e["type"] == "task.completed"]
    assert [e["data"]["cause"] for e in auto] == ["auto"]
    # and the timers moved the credits: the auto-completed task paid its worker 25 - 2 (the fee), the task that
    # failed on its last attempt refunded its poster
    assert call(live, "GET", "/wallet", poster.key) == {"account_id": poster.id, "balance": 75, "escrowed": 0}
    assert call(live, "GET", "/wallet", worker.key)["balance"] == 123
