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
    from taskboard.tasks.service import TaskBoard

    started, release = threading.Event(), threading.Event()
    original = TaskBoard.post

    def slow(self: TaskBoard, *args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(30)
        return original(self, *args, **kwargs)

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
    from taskboard.tasks.service import TaskBoard

    original, calls = TaskBoard.post, {"n": 0}

    def fails_once(self: TaskBoard, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug, this once")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TaskBoard, "post", fails_once)
    assert post(api, "/tasks", {"title": "x"}, poster, "retry-me").status == 500
    assert post(api, "/tasks", {"title": "x"}, poster, "retry-me").status == 201
    assert len(tasks_of(api, poster)) == 1


def test_post_keys_is_scoped_by_source_ip_and_bad_keys_are_refused(api: Api, poster: Agent) -> None:
    def sign_up(ip: str) -> Any:
        headers = {"Content-Type": "application/json", "Idempotency-Key": "signup-1"}
        return api.stack.invoke("POST", "/keys", headers=headers, body='{"name": "n"}', source_ip=ip)

    first = sign_up("192.0.2.1")
    assert first.status == 201
    # the same address again: the account is not made twice, and its key is not shown twice (see
    # test_idempotency_secrets.py for every route that hands out a secret)
    again = sign_up("192.0.2.1")
    assert again.status == 409 and again.json()["code"] == "idempotency_secret_shown"
    assert again.json()["first_response"] == {**first.json(), "key": None}
    # another address with the same key is a sign-up of its own
    elsewhere = sign_up("192.0.2.2")
    assert elsewhere.status == 201 and elsewhere.json()["id"] != first.json()["id"]
    for bad in ("x" * 256, "tab\there"):
        refused = post(api, "/tasks", {"title": "t"}, poster, bad)
        assert refused.status == 400 and "Idempotency-Key" in refused.json()["error"]


def claim_next(api: Api, worker: Agent, query: str, key: str) -> Any:
    return api.call("POST", "/tasks/next/claim", query=query, key=worker.key, headers={"Idempotency-Key": key})


def test_the_query_string_is_part_of_the_request(api: Api, poster: Agent, worker: Agent) -> None:
    qa, qb, qc = (api.post_task(poster, tags=[tag])["id"] for tag in ("qa", "qb", "qc"))
    # Given a claim of the next qa task with a key
    first = claim_next(api, worker, "skills=qa", "next-1")
    assert first.status == 200 and first.json()["task"]["id"] == qa
    # When the same key is sent with another query, it is another request: the qb task, not the qa one again
    other = claim_next(api, worker, "skills=qb", "next-1")
    assert other.status == 200 and other.json()["task"]["id"] == qb
    assert "Idempotent-Replayed" not in other.headers
    # ... while the same query with its parameters in another order is the same request, replayed
    claimed = claim_next(api, worker, "skills=qc&timeout=0", "next-2")
    assert claimed.json()["task"]["id"] == qc
    replayed = claim_next(api, worker, "timeout=0&skills=qc", "next-2")
    assert replayed.headers.get("Idempotent-Replayed") == "true" and replayed.json() == claimed.json()
    # ... and the query in the first spelling still replays as well
    assert claim_next(api, worker, "skills=qa", "next-1").json() == first.json()


def test_bodies_are_compared_as_json_not_as_bytes(api: Api, poster: Agent) -> None:
    def create(raw: str, key: str = "json-1") -> Any:
        return api.call("POST", "/tasks", raw_body=raw, key=poster.key, headers={"Idempotency-Key": key})

    first = create('{"title": "same", "tags": ["x"], "max_attempts": 2}')
    assert first.status == 201
    # the same JSON with other whitespace, key order and escapes is the same request
    for spelling in (
        '{"tags":["x"],"max_attempts":2,"title":"same"}',
        '{\n  "max_attempts" : 2 ,\n  "title" : "s\\u0061me",\n  "tags" : [ "x" ]\n}',
    ):
        again = create(spelling)
        assert again.status == 201 and again.json() == first.json(), spelling
        assert again.headers.get("Idempotent-Replayed") == "true"
    assert tasks_of(api, poster) == [first.json()["id"]]
    # while another value is another body: refused
    for other in ('{"title": "same", "tags": ["y"], "max_attempts": 2}', '{"title": "same", "tags": ["x"]}'):
        refused = create(other)
        assert refused.status == 422 and refused.json()["code"] == "idempotency_key_reused", other


def test_the_canonical_forms() -> None:
    from taskboard.http.idempotency import canonical_body, canonical_query

    def body(text: str | None, base64: bool = False) -> str:
        return canonical_body({"body": text, "isBase64Encoded": base64})

    assert body('{"b": [1, 2], "a": "\\u00e9"}') == body('{"a":"é","b":[1,2]}') == '{"a":"\\u00e9","b":[1,2]}'
    assert body("eyJhIjogMX0=", base64=True) == body('{"a": 1}')  # API Gateway's base64 of the same text
    assert body('{"a": [1, 2]}') != body('{"a": [2, 1]}')  # order in an array is meaning
    # what the reader refuses never equals what it accepts: a key twice is not the last one alone
    assert body('{"a": 1, "a": 2}') != body('{"a": 2}')
    assert body('{"a": NaN}') != body('{"a": "NaN"}') and body("{oops") == "as sent: {oops"
    assert body(None) == body("") == "" != body("{}")

    def query(multi: dict[str, list[str]] | None) -> list[list[Any]]:
        single = {name: values[-1] for name, values in multi.items()} if multi else None
        return canonical_query({"multiValueQueryStringParameters": multi, "queryStringParameters": single})

    assert query({"skills": ["qa"], "timeout": ["0"]}) == query({"timeout": ["0"], "skills": ["qa"]})
    assert query({"skills": ["qa"]}) != query({"skills": ["qb"]}) != query(None) == []
    assert query({"skills": ["a", "b"]}) != query({"skills": ["b", "a"]})
