"""Hostile request bodies (issue 13), through the real handlers on moto: each reproduction gets a 4xx with nothing
written, and the shared listings (GET /tasks, /tasks?status=all, /tasks/next, /tasks/next/claim, GET /agents,
GET /events) keep answering 200 after any request that was accepted.

The reader's rules are taskboard.core.json_reader.read_json (README "Errors", invalid_json and its `reason`); the
display strings' rule and the stored JSON fields' limits are in taskboard.core.fields and taskboard.core.jsonvalues
(README "Limits"). The last tests put unreadable items into the table directly (data written before these rules),
which a listing skips."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from local.stack import ACCOUNT, REGION, ProxyResponse, Stack
from taskboard.core import limits
from tests.support import Agent, Api, FrozenClock


@pytest.fixture
def quiet(stack: Stack) -> Stack:
    """No stream or queue is read: nothing is written in the background that could look like a change made by
    a refused call."""
    stack.stop_pollers()
    return stack


def snapshot(stack: Stack) -> dict[str, list[str]]:
    """Every item of the tables a request may write (RateLimitTable counts every request, refused or not), read
    from moto's backend directly (a Scan through boto3 is ~100 times slower), in a stable order. When a key was
    last used is the authorizer's bookkeeping, not a change made by the call."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[ACCOUNT][REGION]
    found: dict[str, list[str]] = {}
    for logical in ("TasksTable", "IdempotencyTable"):
        items = []
        for item in backend.get_table(stack.names.get(logical, logical)).all_items():
            attributes = dict(item.to_json()["Attributes"])
            if attributes.get("pk", {}).get("S", "").startswith("KEY#"):
                attributes.pop("last_used_at", None)
            items.append(json.dumps(attributes, sort_keys=True))
        found[logical] = sorted(items)
    return found


def assert_refused(response: ProxyResponse, status: int, code: str, reason: str | None = None) -> dict[str, Any]:
    assert response.status == status, response.body
    body = response.json()
    assert body["code"] == code and body["error"] and "request_id" in body, body
    if reason is not None:
        assert body["reason"] == reason, body
    return body


def assert_listings_answer(api: Api, agent: Agent) -> None:
    """Every shared listing answers 200 (GET /tasks/next/claim may claim a task: call it last)."""
    for method, path, query in [
        ("GET", "/tasks", ""),
        ("GET", "/tasks", "status=all"),
        ("GET", "/tasks", "status=claimed"),
        ("GET", "/tasks/next", "timeout=0"),
        ("GET", "/agents", ""),
        ("GET", "/events", ""),
        ("POST", "/tasks/next/claim", "timeout=0"),
    ]:
        response = api.call(method, path, key=agent.key, query=query)
        assert response.status == 200, (method, path, query, response.body[:300])


def balance(api: Api, agent: Agent) -> tuple[int, int]:
    wallet = api.get("/wallet", key=agent.key).json()
    return wallet["balance"], wallet["escrowed"]


def nested(depth: int) -> str:
    """`depth` levels of arrays as JSON text: nested(1) == "[]"."""
    return "[" * depth + "]" * depth


def deep_object(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


# ---- 1. one deep body no longer poisons the listings, and is refused before anything is written ---------------


@pytest.mark.parametrize("depth", [limits.JSON_FIELD_DEPTH_MAX + 1, 254, 255, 300, 5_000])
def test_a_deep_input_is_refused_before_anything_is_written(
    api: Api, quiet: Stack, poster: Agent, worker: Agent, depth: int
) -> None:
    before, money = snapshot(quiet), balance(api, poster)
    body = '{"title": "p", "budget": 10, "input": ' + nested(depth) + "}"
    assert_refused(api.call("POST", "/tasks", raw_body=body, key=poster.key), 400, "invalid_json", "too_deep")
    assert snapshot(quiet) == before and balance(api, poster) == money  # no task, no escrow
    assert_listings_answer(api, worker)


def test_the_deepest_input_allowed_is_stored_listed_and_claimed(api: Api, quiet: Stack, poster: Agent) -> None:
    deepest = json.loads(nested(limits.JSON_FIELD_DEPTH_MAX))
    task = api.post_task(poster, title="deep but fine", input=deepest, budget=10, tags=["deep"])
    assert task["input"] == deepest
    listed = api.get("/tasks", query="tags=deep").json()["tasks"]
    assert [item["input"] for item in listed] == [deepest]
    assert_listings_answer(api, api.new_agent(name="prober"))  # which claims it with /tasks/next/claim
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "claimed"


def test_a_deep_object_nested_in_other_fields_is_refused_too(api: Api, quiet: Stack, poster: Agent) -> None:
    before = snapshot(quiet)
    for field in ("input", "output_schema"):
        body = json.dumps({"title": "p", field: deep_object(limits.JSON_FIELD_DEPTH_MAX + 1)})
        assert_refused(api.call("POST", "/tasks", raw_body=body, key=poster.key), 400, "invalid_json", "too_deep")
    assert snapshot(quiet) == before


def test_a_retry_of_a_refused_post_with_an_idempotency_key_escrows_nothing(
    api: Api, quiet: Stack, poster: Agent
) -> None:
    before, money = snapshot(quiet), balance(api, poster)
    body = '{"title": "p", "budget": 10, "input": ' + nested(300) + "}"
    for _ in range(3):  # a 5xx was not kept, so each retry posted (and escrowed) again; a 400 is final
        sent = api.call("POST", "/tasks", raw_body=body, key=poster.key, headers={"Idempotency-Key": "retry-me"})
        assert_refused(sent, 400, "invalid_json", "too_deep")
    assert snapshot(quiet) == before and balance(api, poster) == money


def test_deep_metadata_is_refused_and_the_directory_keeps_answering(api: Api, quiet: Stack, poster: Agent) -> None:
    before = snapshot(quiet)
    # a field is at most one level less deep than the body that holds it: the reader refuses it
    for metadata in (nested(300), json.dumps(deep_object(limits.JSON_FIELD_DEPTH_MAX + 1))):
        sent = api.call("PATCH", "/agents/me", raw_body='{"metadata": ' + metadata + "}", key=poster.key)
        assert_refused(sent, 400, "invalid_json", "too_deep")
        sent = api.call("POST", "/agents/register", raw_body='{"name": "n", "metadata": ' + metadata + "}")
        assert_refused(sent, 400, "invalid_json", "too_deep")
    assert snapshot(quiet) == before
    deepest = deep_object(limits.JSON_FIELD_DEPTH_MAX)
    changed = api.call("PATCH", "/agents/me", json_body={"metadata": deepest}, key=poster.key)
    assert changed.status == 200 and changed.json()["metadata"] == deepest
    agents = api.get("/agents")
    assert agents.status == 200 and deepest in [agent["metadata"] for agent in agents.json()["agents"]]
    assert_listings_answer(api, poster)


def test_a_deep_result_is_refused_and_the_poster_can_still_read_the_result(
    api: Api, quiet: Stack, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, title="deliver deep")
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 200
    before = snapshot(quiet)
    for deep_result in (nested(300), nested(limits.JSON_FIELD_DEPTH_MAX + 1)):
        sent = api.call(
            "POST", f"/tasks/{task['id']}/deliver", raw_body='{"result": ' + deep_result + "}", key=worker.key
        )
        assert_refused(sent, 400, "invalid_json", "too_deep")
    assert snapshot(quiet) == before
    deepest = json.loads(nested(limits.JSON_FIELD_DEPTH_MAX))
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": deepest}, key=worker.key).status == 200
    result = api.get(f"/tasks/{task['id']}/result", key=poster.key, query="timeout=0")
    assert result.status == 200 and result.json()["result"] == deepest
    assert_listings_answer(api, worker)


# ---- 3. NaN, Infinity, 1e400, huge integers, bytes that are not UTF-8 --------------------------------------------

BOUNDED = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": {"type": "number", "minimum": 0, "maximum": 10}},
}


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ("NaN", "non_finite_number"),
        ("Infinity", "non_finite_number"),
        ("-Infinity", "non_finite_number"),
        ("1e400", "number_too_large"),
        ("-1e400", "number_too_large"),
        ("9" * 21, "number_too_large"),
        ("9" * 5_000, "number_too_large"),
    ],
)
def test_a_result_that_is_not_a_json_number_never_passes_a_schema(
    api: Api, quiet: Stack, poster: Agent, worker: Agent, literal: str, reason: str
) -> None:
    task = api.post_task(poster, title="bounded", output_schema=BOUNDED)
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 200
    before = snapshot(quiet)
    body = '{"result": {"value": ' + literal + "}}"
    sent = api.call("POST", f"/tasks/{task['id']}/deliver", raw_body=body, key=worker.key)
    assert_refused(sent, 400, "invalid_json", reason)
    assert snapshot(quiet) == before
    # the poster never receives null for a value its schema bounds
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": {"value": 5}}, key=worker.key).status == 200
    assert api.get(f"/tasks/{task['id']}/result", key=poster.key, query="timeout=0").json()["result"] == {"value": 5}


@pytest.mark.parametrize(
    "body",
    [
        '{"title": "p", "budget": ' + "9" * 5_000 + "}",
        '{"title": "p", "input": {"n": ' + "1" * 5_000 + "}}",
        '{"title": "p", "input": {"n": -' + "1" * 21 + "}}",
        '{"title": "p", "input": [1e400]}',
        '{"title": "p", "input": {"v": NaN}}',
        '{"title": "p", "min_rating": Infinity}',
    ],
    ids=lambda body: body[:40],
)
def test_numbers_json_cannot_hold_are_refused_on_post(api: Api, quiet: Stack, poster: Agent, body: str) -> None:
    before = snapshot(quiet)
    refused = assert_refused(api.call("POST", "/tasks", raw_body=body, key=poster.key), 400, "invalid_json")
    assert refused["reason"] in ("number_too_large", "non_finite_number")
    assert snapshot(quiet) == before


@pytest.mark.parametrize(
    "raw", [b'{"title": "\xff"}', b'{"title": "caf\xe9"}', b'{"title": "\xc3"}', b"\xff\xfe{\x00}\x00"], ids=repr
)
def test_a_body_that_is_not_utf8_is_refused(api: Api, quiet: Stack, poster: Agent, raw: bytes) -> None:
    before = snapshot(quiet)
    assert_refused(api.call("POST", "/tasks", raw_body=raw, key=poster.key), 400, "invalid_json", "not_utf8")
    assert_refused(api.call("POST", "/keys", raw_body=raw), 400, "invalid_json", "not_utf8")
    assert snapshot(quiet) == before
    assert api.call("POST", "/tasks", raw_body='{"title": "café"}'.encode(), key=poster.key).status == 201


def test_an_unpaired_surrogate_escape_is_refused(api: Api, quiet: Stack, poster: Agent) -> None:
    before = snapshot(quiet)
    for body in ('{"title": "a\\ud800"}', '{"title": "t", "input": {"\\udc00": 1}}'):
        sent = api.call("POST", "/tasks", raw_body=body, key=poster.key)
        assert_refused(sent, 400, "invalid_json", "unpaired_surrogate")
    assert snapshot(quiet) == before
    paired = api.call("POST", "/tasks", raw_body='{"title": "\\ud83d\\ude00"}', key=poster.key)
    assert paired.status == 201 and paired.json()["title"] == "😀"


# ---- 4. arrays and scalars at the top, duplicate keys --------------------------------------------------------


def test_an_array_body_is_refused_everywhere_and_creates_nothing(
    api: Api, quiet: Stack, poster: Agent, worker: Agent
) -> None:
    task = api.post_task(poster, title="target")
    claimed = api.post_task(poster, title="claimed target")
    assert api.post(f"/tasks/{claimed['id']}/claim", key=worker.key).status == 200
    before, money = snapshot(quiet), balance(api, poster)
    calls = [
        ("POST", "/tasks", '[{"title": "first"}, {"title": "second", "budget": 50}]', poster),
        ("POST", f"/tasks/{task['id']}/claim", '[{"agent_id": "a"}]', worker),
        ("POST", f"/tasks/{claimed['id']}/deliver", '[{"result": 1}]', worker),
        ("POST", "/webhooks", '[{"url": "http://127.0.0.1:9/hook"}]', poster),
        ("PATCH", "/agents/me", '[{"name": "renamed"}]', poster),
        ("POST", f"/tasks/{task['id']}/cancel", "[]", poster),  # a route that takes no body reads it too
        ("POST", "/tasks", '"a string"', poster),
        ("POST", "/tasks", "5", poster),
        ("POST", "/tasks", "null", poster),
        ("POST", f"/tasks/{task['id']}/claim", "true", worker),
    ]
    for method, path, body, agent in calls:
        sent = api.call(method, path, raw_body=body, key=agent.key)
        assert_refused(sent, 400, "invalid_json", "not_an_object")
    assert snapshot(quiet) == before and balance(api, poster) == money
    assert "first" not in [item["title"] for item in api.get("/tasks").json()["tasks"]]


def test_a_duplicate_key_is_refused_not_resolved_last_wins(api: Api, quiet: Stack, poster: Agent) -> None:
    before, money = snapshot(quiet), balance(api, poster)
    for body in ('{"title": "x", "budget": 0, "budget": 5}', '{"title": "x", "input": {"a": 1, "a": 2}}'):
        sent = api.call("POST", "/tasks", raw_body=body, key=poster.key)
        body_error = assert_refused(sent, 400, "invalid_json", "duplicate_key")
        assert "twice" in body_error["error"]
    assert snapshot(quiet) == before and balance(api, poster) == money


# ---- 8. display strings -----------------------------------------------------------------------------------------

SPOOFS = ["\x00", "\x07", "\u202e", "\u2066", "\x1b[31m", "\x85"]


def display_calls(
    api: Api, poster: Agent, worker: Agent, owner: Agent
) -> list[tuple[str, str, dict[str, Any], Agent | None, str]]:
    """(method, path, body, caller, field) for each display string of each endpoint, with a task in the state
    where the call would succeed."""
    claimed = api.post_task(poster, title="to claim")
    delivered = api.post_task(poster, title="to reject")
    completed = api.post_task(poster, title="to review")
    for task in (delivered, completed):
        assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 200
        assert api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key).status == 200
    assert api.post(f"/tasks/{completed['id']}/complete", key=poster.key).status == 200
    token = api.post("/agents/register-token", {"agent_id": "spoof-target"}, key=owner.key).json()
    connect = {"registration_token": token["registration_token"], "agent_id": "spoof-target"}
    return [
        ("POST", "/tasks", {}, poster, "title"),
        ("POST", "/tasks", {"title": "t"}, poster, "description"),
        ("POST", "/tasks", {"title": "t"}, poster, "posted_by"),
        ("POST", f"/tasks/{claimed['id']}/claim", {}, worker, "agent_id"),
        ("POST", "/tasks/next/claim", {}, worker, "agent_id"),
        ("POST", f"/tasks/{delivered['id']}/reject", {}, poster, "reason"),
        ("POST", f"/tasks/{completed['id']}/review", {"rating": 5}, poster, "comment"),
        ("POST", "/keys", {}, None, "name"),
        ("POST", "/agents/register", {}, None, "name"),
        ("POST", "/agents/register", {"name": "n"}, None, "description"),
        ("PATCH", "/agents/me", {}, poster, "name"),
        ("PATCH", "/agents/me", {}, poster, "description"),
        ("POST", "/owners/register", {}, None, "name"),
        ("POST", "/agents/register-token", {"agent_id": "other-target"}, owner, "agent_name"),
        ("POST", "/agents/connect", connect, None, "agent_name"),
    ]


def test_no_display_string_takes_a_control_or_bidi_character(
    api: Api, quiet: Stack, poster: Agent, worker: Agent
) -> None:
    made = api.post("/owners/register", {"name": "an owner"})
    owner = Agent(key=made.json()["key"], id=made.json()["account"]["id"])
    calls = display_calls(api, poster, worker, owner)
    before = snapshot(quiet)
    for method, path, rest, caller, field in calls:
        for spoof in SPOOFS:
            body = {**rest, field: f"invoice{spoof}exe.pdf"}
            query = "timeout=0" if path == "/tasks/next/claim" else ""
            sent = api.call(method, path, json_body=body, key=caller.key if caller else None, query=query)
            refused = assert_refused(sent, 400, "invalid_request")
            assert refused["details"][0]["location"] == f"body.{field}", (path, field, refused)
    assert snapshot(quiet) == before


def test_a_long_text_keeps_its_line_breaks(api: Api, quiet: Stack, poster: Agent) -> None:
    task = api.post_task(poster, title="multi-line", description="first\r\n\tsecond\nthird")
    assert task["description"] == "first\n\tsecond\nthird"
    assert_refused(api.post("/tasks", {"title": "one\nline"}, key=poster.key), 400, "invalid_request")


# ---- defense in depth: items written before these rules are skipped, not a 500 for everyone ----------------------


def poison(stack: Stack, key: dict[str, Any], name: str, text: str) -> None:
    """Overwrite one attribute of a stored item, as data written before the reader's rules could be."""
    table = stack.names.get("TasksTable", "TasksTable")
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=table,
        Key={name_: {"S": value} for name_, value in key.items()},
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": name},
        ExpressionAttributeValues={":v": {"S": text}},
    )


def test_a_listing_skips_a_stored_task_it_cannot_render(api: Api, quiet: Stack, poster: Agent, worker: Agent) -> None:
    good = api.post_task(poster, title="good", tags=["mixed"])
    bad = api.post_task(poster, title="bad", tags=["mixed"])
    poison(quiet, {"pk": f"TASK#{bad['id']}", "sk": "BODY"}, "input", nested(300))
    for query in ("tags=mixed", "status=all&tags=mixed", "status=open"):
        listed = api.get("/tasks", query=query)
        assert listed.status == 200, listed.body
        assert [task["id"] for task in listed.json()["tasks"] if task["id"] in (good["id"], bad["id"])] == [good["id"]]
    found = api.get("/tasks/next", key=worker.key, query="skills=mixed&timeout=0")
    assert found.status == 200 and found.json()["task"]["id"] == good["id"]
    before = snapshot(quiet)
    refused = api.post(f"/tasks/{bad['id']}/claim", key=worker.key)  # a change never commits behind a 500
    assert refused.status == 500 and snapshot(quiet) == before
    claimed = api.post("/tasks/next/claim", key=worker.key, query="skills=mixed&timeout=0")
    assert claimed.status == 200 and claimed.json()["task"]["id"] == good["id"]


def test_the_directory_skips_a_stored_profile_it_cannot_render(api: Api, quiet: Stack, poster: Agent) -> None:
    poison(quiet, {"pk": f"ACCOUNT#{poster.id}", "sk": "ACCOUNT"}, "metadata", '{"a": ' + nested(300) + "}")
    listed = api.get("/agents")
    assert listed.status == 200, listed.body
    assert poster.id not in [agent["id"] for agent in listed.json()["agents"]]


def test_the_feed_skips_a_stored_event_it_cannot_render(
    api: Api, quiet: Stack, poster: Agent, clock: FrozenClock
) -> None:
    first = api.post_task(poster, title="first")
    second = api.post_task(poster, title="second")
    poison(quiet, {"pk": f"TASK#{first['id']}", "sk": "EVENT#0000000001"}, "envelope", '{"id": ' + nested(300) + "}")
    clock.advance(60)  # the feed shows an event once it settled
    feed = api.get("/events", key=poster.key)
    assert feed.status == 200, feed.body
    assert [event["data"]["task"]["id"] for event in feed.json()["events"]] == [second["id"]]
