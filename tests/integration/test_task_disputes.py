"""Revisions and disputes on tasks, as on orders (issue 16: "where a task would profit from the same states, offer
them on tasks too"): the poster sends a delivery back to the same worker instead of rejecting it, either party
takes a delivered task to the operator, and the operator refunds, pays or splits its budget."""

from __future__ import annotations

from typing import Any

import pytest

from local.stack import Stack
from taskboard.runtime import board
from tests.support import Agent, Api, platform_balance


def wallet(api: Api, agent: Agent) -> tuple[int, int]:
    body = api.get("/wallet", key=agent.key).json()
    return body["balance"], body["escrowed"]


def delivered(api: Api, poster: Agent, worker: Agent, **fields: Any) -> dict[str, Any]:
    task = api.post_task(poster, **fields)
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 200
    answer = api.post(f"/tasks/{task['id']}/deliver", {"result": {"v": 1}}, key=worker.key)
    assert answer.status == 200, answer.body
    return dict(answer.json())


@pytest.fixture
def operator(stack: Stack) -> Agent:
    return Agent(*stack.operator_key())


def test_a_revision_sends_the_delivery_back_to_the_same_worker_within_the_tasks_allowance(
    api: Api, poster: Agent, worker: Agent
) -> None:
    task = delivered(api, poster, worker, revisions_included=1)
    assert task["revisions_included"] == 1
    revised = api.post(f"/tasks/{task['id']}/revision", {"feedback": "add v2"}, key=poster.key)
    assert revised.status == 200, revised.body
    shown = revised.json()
    assert (shown["status"], shown["claimed_by"], shown["attempts"]) == ("claimed", worker.id, 1)
    assert (shown["revisions_used"], shown["revision_feedback"]) == (1, "add v2")
    assert shown["expires_at"] is not None and shown["auto_complete_at"] is None
    # the same worker delivers again, on the same attempt
    again = api.post(f"/tasks/{task['id']}/deliver", {"result": {"v": 2}, "attempt": 1}, key=worker.key)
    assert again.status == 200, again.body
    refused = api.post(f"/tasks/{task['id']}/revision", {"feedback": "more"}, key=poster.key)
    assert refused.status == 409 and refused.json()["code"] == "revisions_exhausted"
    assert refused.json()["revisions_remaining"] == 0
    types = [event["type"] for event in board().events(task["id"])]
    assert types == ["task.created", "task.claimed", "task.delivered", "task.revision_requested", "task.delivered"]


def test_a_task_without_revisions_refuses_one_and_only_its_poster_asks(api: Api, poster: Agent, worker: Agent) -> None:
    task = delivered(api, poster, worker)
    assert api.post(f"/tasks/{task['id']}/revision", {"feedback": "x"}, key=worker.key).json()["code"] == (
        "not_the_poster"
    )
    refused = api.post(f"/tasks/{task['id']}/revision", {"feedback": "x"}, key=poster.key)
    assert refused.status == 409 and refused.json()["code"] == "revisions_exhausted"


def test_a_disputed_task_waits_for_the_operator_who_splits_its_budget(
    api: Api, poster: Agent, worker: Agent, operator: Agent
) -> None:
    task = delivered(api, poster, worker, budget=30, tags=["disputable"])
    stranger = api.new_agent(name="stranger")
    assert api.post(f"/tasks/{task['id']}/dispute", {"reason": "x"}, key=stranger.key).json()["code"] == ("not_a_party")
    disputed = api.post(f"/tasks/{task['id']}/dispute", {"reason": "they will not pay"}, key=worker.key)
    assert disputed.status == 200, disputed.body
    shown = disputed.json()
    assert shown["status"] == "disputed" and shown["dispute"]["opened_by"] == worker.id
    assert shown["auto_complete_at"] is None  # no timer completes a disputed task
    assert api.post(f"/tasks/{task['id']}/complete", key=poster.key).json()["code"] == "invalid_transition"
    listed = api.get("/tasks", query="status=disputed&skills=disputable").json()["tasks"]
    assert [t["id"] for t in listed] == [task["id"]]

    queue = api.get("/disputes", key=operator.key).json()["disputes"]
    assert [(d["kind"], d["task"]["id"], d["task"]["result"]) for d in queue] == [("task", task["id"], {"v": 1})]
    split = {"outcome": "split", "buyer_amount": 10, "seller_amount": 20, "note": "two thirds done"}
    assert api.post(f"/tasks/{task['id']}/resolve", split, key=poster.key).json()["code"] == "operators_only"
    resolved = api.post(f"/tasks/{task['id']}/resolve", split, key=operator.key)
    assert resolved.status == 200, resolved.body
    body = resolved.json()
    assert body["status"] == "completed" and body["result"] == {"v": 1}
    assert (body["resolution"]["buyer_amount"], body["resolution"]["seller_amount"]) == (10, 20)
    # 10 back to the poster; 20 to the worker less the fee (2)
    assert wallet(api, poster) == (100 - 30 + 10, 0)
    assert wallet(api, worker) == (100 + 18, 0) and platform_balance() == 2
    assert api.get("/disputes", key=operator.key).json()["disputes"] == []
    types = [event["type"] for event in board().events(task["id"])]
    assert types[-2:] == ["task.disputed", "task.resolved"]
    events = board().events(task["id"])
    assert events[-2]["data"]["cause"] == "worker" and events[-1]["data"]["cause"] == "operator"


def test_the_operator_refunds_a_disputed_task(api: Api, poster: Agent, worker: Agent, operator: Agent) -> None:
    task = delivered(api, poster, worker, budget=25)
    api.post(f"/tasks/{task['id']}/dispute", {"reason": "wrong data"}, key=poster.key)
    refund = api.post(f"/tasks/{task['id']}/resolve", {"outcome": "refund", "note": "wrong"}, key=operator.key)
    assert refund.status == 200 and refund.json()["status"] == "cancelled"
    assert wallet(api, poster) == (100, 0) and wallet(api, worker) == (100, 0)
