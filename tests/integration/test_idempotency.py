"""Idempotency-Key on POST: a retried request does its work once and gets the first answer again."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.integration.test_authorization import scan_table
from tests.support import Agent, Api


def post(api: Api, path: str, body: Any, agent: Agent | None, key: str) -> Any:
    return api.call("POST", path, json_body=body, key=agent.key if agent else None, headers={"Idempotency-Key": key})


def tasks_of(api: Api, agent: Agent) -> list[str]:
    listed = api.get("/tasks", query="status=all&limit=100").json()["tasks"]
    return [t["id"] for t in listed if t["poster_id"] == agent.id]


def test_a_repeated_post_creates_one_task_and_answers_the_same_twice(api: Api, poster: Agent) -> None:
    first = post(api, "/tasks", {"title": "once"}, poster, "create-1")
    again = post(api, "/tasks", {"title": "once"}, poster, "create-1")
    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert tasks_of(api, poster) == [first.json()["id"]]
    # without the header, or with another key, it is a new request
    assert post(api, "/tasks", {"title": "once"}, poster, "create-2").json()["id"] != first.json()["id"]
    assert api.post("/tasks", {"title": "once"}, key=poster.key).status == 201
    assert len(tasks_of(api, poster)) == 3


def test_the_same_key_with_another_body_is_refused(api: Api, poster: Agent) -> None:
    assert post(api, "/tasks", {"title": "one"}, poster, "k").status == 201
    before = scan_table()
    refused = post(api, "/tasks", {"title": "two"}, poster, "k")
    assert refused.status == 422 and refused.json()["code"] == "idempotency_key_reused"
    assert scan_table() == before


def test_keys_are_scoped_to_the_account(api: Api, poster: Agent, other: Agent) -> None:
    mine = post(api, "/tasks", {"title": "same"}, poster, "shared-key")
    theirs = post(api, "/tasks", {"title": "same"}, other, "shared-key")
    assert theirs.status == 201 and theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["poster_id"] == other.id


def test_a_retried_claim_and_delivery_happen_once(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    task = api.post_task(poster)
    claim = post(api, f"/tasks/{task['id']}/claim", None, worker, "claim-1")
    assert claim.status == 200
    replay = post(api, f"/tasks/{task['id']}/claim", None, worker, "claim-1")
    assert replay.status == 200 and replay.json() == claim.json()  # not 409: the first answer again
    assert post(api, f"/tasks/{task['id']}/claim", None, other, "claim-1").status == 409  # another account
    delivered = post(api, f"/tasks/{task['id']}/deliver", {"result": 1}, worker, "deliver-1")
    assert post(api, f"/tasks/{task['id']}/deliver", {"result": 1}, worker, "deliver-1").json() == delivered.json()
    from taskboard.runtime import board

    assert [e["type"] for e in board().events(task["id"])] == ["task.created", "task.claimed", "task.delivered"]


def test_a_retry_while_the_first_is_running_gets_409(api: Api, poster: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    from taskboard.service import TaskBoard

    started, release = threading.Event(), threading.Event()
    original = TaskBoard.post

    def slow(self: TaskBoard, *args: Any) -> Any:
        started.set()
        release.wait(30)
        return original(self, *args)

    monkeypatch.setattr(TaskBoard, "post", slow)
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(post(api, "/tasks", {"title": "slow"}, poster, "busy")))
    first.start()
    assert started.wait(30)
    during = post(api, "/tasks", {"title": "slow"}, poster, "busy")
    release.set()
    first.join(30)
    assert during.status == 409 and during.json()["code"] == "idempotency_in_progress"
    assert answers[0].status == 201
    assert post(api, "/tasks", {"title": "slow"}, poster, "busy").json() == answers[0].json()


def test_a_failure_is_not_remembered(api: Api, poster: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    from taskboard.service import TaskBoard

    original, calls = TaskBoard.post, {"n": 0}

    def fails_once(self: TaskBoard, *args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug, this once")
        return original(self, *args)

    monkeypatch.setattr(TaskBoard, "post", fails_once)
    assert post(api, "/tasks", {"title": "x"}, poster, "retry-me").status == 500
    assert post(api, "/tasks", {"title": "x"}, poster, "retry-me").status == 201
    assert len(tasks_of(api, poster)) == 1


def test_post_keys_is_scoped_by_source_ip_and_bad_keys_are_refused(api: Api, poster: Agent) -> None:
    first = post(api, "/keys", {"name": "n"}, None, "signup-1")
    assert post(api, "/keys", {"name": "n"}, None, "signup-1").json() == first.json()
    for bad in ("x" * 256, "tab\there"):
        refused = post(api, "/tasks", {"title": "t"}, poster, bad)
        assert refused.status == 400 and "Idempotency-Key" in refused.json()["error"]
