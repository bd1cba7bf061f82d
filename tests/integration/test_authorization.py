"""Who may call what: every endpoint against every kind of caller, through the real handlers on moto.

One table, `MATRIX`, holds the whole policy: a row per endpoint, a column per caller, each cell the expected
status and, for a refusal, the error code; `CALLS` says how each endpoint is called and in which state its task
is set up. Each cell is its own test (`test_access[deliver-another_agent]`). Every task is set up in the state
where the call succeeds for the right caller, so a 401/403 is about who calls, never about the task's state;
a refused call must leave the table exactly as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local.stack import ProxyResponse
from tests.support import Agent, Api

# ---- the callers ---------------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"  # no key at all
MALFORMED_KEY = "malformed_key"  # a key that is not even shaped like one of ours
UNKNOWN_KEY = "unknown_key"  # shaped like a key (atb_ + 43 characters) but never issued
ANOTHER_AGENT = "another_agent"  # a valid key: neither the poster nor the worker of the task
POSTER = "poster"  # posted the task
WORKER = "worker"  # holds (or held, or is about to take) the task's claim
CALLERS = (ANONYMOUS, MALFORMED_KEY, UNKNOWN_KEY, ANOTHER_AGENT, POSTER, WORKER)

MALFORMED = "not-a-real-key"
NEVER_ISSUED = "atb_" + "A" * 43

# ---- the states a task is set up in before the call ----------------------------------------------------------

OPEN = "open"  # posted by the poster, never claimed
CLAIMED = "claimed"  # claimed by the worker
DELIVERED = "delivered"  # claimed and delivered by the worker
REOPENED = "reopened"  # claimed by the worker, then released: open again, the worker is a past worker
SUBSCRIBED = "subscribed"  # open, and the poster holds a webhook subscription ("{hook}" in a path is its id)
HOOK_URL = "http://127.0.0.1:9/hook"  # nothing listens there: a delivery would fail (and write its log)

RESULT = {"answer": 42}

# ---- the policy: endpoint x caller -> expected status (and error code for a refusal) -------------------------

Expected = tuple[int, str | None]
OK: Expected = (200, None)
CREATED: Expected = (201, None)
UNAUTH: Expected = (401, "unauthorized")
NOT_WORKER: Expected = (403, "not_the_worker")
NOT_POSTER: Expected = (403, "not_the_poster")
OWN_TASK: Expected = (403, "own_task")
ACCEPTED: Expected = (202, None)
NO_CONTENT: Expected = (204, None)
NO_HOOK: Expected = (404, "webhook_not_found")  # someone else's webhook is as absent as a missing one

# A key that is sent must be a valid one, even where no key is needed (GET /tasks, GET /tasks/{id}): a client
# with a wrong key learns it at once instead of being served silently as anonymous. The one exception is
# POST /keys, the way to get a (new) key: whatever key header comes with it is ignored.
# fmt: off
MATRIX: dict[str, tuple[Expected, ...]] = {
    #               anonymous   malformed   unknown     another     poster      worker
    "create_key":  (CREATED,    CREATED,    CREATED,    CREATED,    CREATED,    CREATED),
    "create_task": (UNAUTH,     UNAUTH,     UNAUTH,     CREATED,    CREATED,    CREATED),
    "list_tasks":  (OK,         UNAUTH,     UNAUTH,     OK,         OK,         OK),
    "get_task":    (OK,         UNAUTH,     UNAUTH,     OK,         OK,         OK),
    "next_task":   (UNAUTH,     UNAUTH,     UNAUTH,     OK,         OK,         OK),
    "claim_next":  (UNAUTH,     UNAUTH,     UNAUTH,     OK,         OK,         OK),
    "claim":       (UNAUTH,     UNAUTH,     UNAUTH,     OK,         OWN_TASK,   OK),
    "heartbeat":   (UNAUTH,     UNAUTH,     UNAUTH,     NOT_WORKER, NOT_WORKER, OK),
    "release":     (UNAUTH,     UNAUTH,     UNAUTH,     NOT_WORKER, NOT_WORKER, OK),
    "deliver":     (UNAUTH,     UNAUTH,     UNAUTH,     NOT_WORKER, NOT_WORKER, OK),
    "get_result":  (UNAUTH,     UNAUTH,     UNAUTH,     NOT_POSTER, OK,         NOT_POSTER),
    "complete":    (UNAUTH,     UNAUTH,     UNAUTH,     NOT_POSTER, OK,         NOT_POSTER),
    "reject":      (UNAUTH,     UNAUTH,     UNAUTH,     NOT_POSTER, OK,         NOT_POSTER),
    "cancel":      (UNAUTH,     UNAUTH,     UNAUTH,     NOT_POSTER, OK,         NOT_POSTER),
    "create_hook": (UNAUTH,     UNAUTH,     UNAUTH,     CREATED,    CREATED,    CREATED),
    "list_hooks":  (UNAUTH,     UNAUTH,     UNAUTH,     OK,         OK,         OK),
    "get_hook":    (UNAUTH,     UNAUTH,     UNAUTH,     NO_HOOK,    OK,         NO_HOOK),
    "delete_hook": (UNAUTH,     UNAUTH,     UNAUTH,     NO_HOOK,    NO_CONTENT, NO_HOOK),
    "rotate_hook": (UNAUTH,     UNAUTH,     UNAUTH,     NO_HOOK,    OK,         NO_HOOK),
    "enable_hook": (UNAUTH,     UNAUTH,     UNAUTH,     NO_HOOK,    OK,         NO_HOOK),
    "test_hook":   (UNAUTH,     UNAUTH,     UNAUTH,     NO_HOOK,    ACCEPTED,   NO_HOOK),
    "hook_log":    (UNAUTH,     UNAUTH,     UNAUTH,     NO_HOOK,    OK,         NO_HOOK),
    "events":      (UNAUTH,     UNAUTH,     UNAUTH,     OK,         OK,         OK),
}
# fmt: on


@dataclass(frozen=True)
class Call:
    """How each endpoint is called, and the state its task is set up in first."""

    method: str
    path: str  # "{id}" is the set-up task's id
    state: str
    body: Any = None
    query: str = ""
    status_after: str | None = None  # the task's status after a successful call (None: unchanged)


# fmt: off
CALLS: dict[str, Call] = {
    "create_key":  Call("POST", "/keys",                 OPEN,      body={"name": "new agent"}),
    "create_task": Call("POST", "/tasks",                OPEN,      body={"title": "another task"}),
    "list_tasks":  Call("GET",  "/tasks",                DELIVERED, query="status=all"),
    "get_task":    Call("GET",  "/tasks/{id}",           DELIVERED),
    "next_task":   Call("GET",  "/tasks/next",           OPEN,      query="timeout=0"),
    "claim_next":  Call("POST", "/tasks/next/claim",     OPEN,      query="timeout=0"),
    "claim":       Call("POST", "/tasks/{id}/claim",     OPEN,      status_after="claimed"),
    "heartbeat":   Call("POST", "/tasks/{id}/heartbeat", CLAIMED,   status_after="claimed"),
    "release":     Call("POST", "/tasks/{id}/release",   CLAIMED,   status_after="open"),
    "deliver":     Call("POST", "/tasks/{id}/deliver",   CLAIMED,   body={"result": RESULT}, status_after="delivered"),
    "get_result":  Call("GET",  "/tasks/{id}/result",    DELIVERED, query="timeout=0"),
    "complete":    Call("POST", "/tasks/{id}/complete",  DELIVERED, status_after="completed"),
    "reject":      Call("POST", "/tasks/{id}/reject",    DELIVERED, body={"reason": "too short"}, status_after="open"),
    "cancel":      Call("POST", "/tasks/{id}/cancel",    REOPENED,  status_after="cancelled"),
    "create_hook": Call("POST", "/webhooks",             OPEN,      body={"url": HOOK_URL}),
    "list_hooks":  Call("GET",  "/webhooks",             SUBSCRIBED),
    "get_hook":    Call("GET",  "/webhooks/{hook}",      SUBSCRIBED),
    "delete_hook": Call("DELETE", "/webhooks/{hook}",    SUBSCRIBED),
    "rotate_hook": Call("POST", "/webhooks/{hook}/rotate", SUBSCRIBED),
    "enable_hook": Call("POST", "/webhooks/{hook}/enable", SUBSCRIBED),
    "test_hook":   Call("POST", "/webhooks/{hook}/test", SUBSCRIBED),
    "hook_log":    Call("GET",  "/webhooks/{hook}/deliveries", SUBSCRIBED),
    "events":      Call("GET",  "/events",               OPEN),
}
# fmt: on

CELLS = [pytest.param(endpoint, caller, id=f"{endpoint}-{caller}") for endpoint in MATRIX for caller in CALLERS]


def test_the_matrix_covers_every_endpoint_of_the_template(api: Api) -> None:
    routes = {(route.method, route.path) for route in api.stack.routes}
    covered = {
        (call.method, call.path.replace("{id}", "{task_id}").replace("{hook}", "{webhook_id}"))
        for call in CALLS.values()
    }
    assert covered == routes
    assert len(routes) == 23
    assert MATRIX.keys() == CALLS.keys()
    assert all(len(row) == len(CALLERS) for row in MATRIX.values())


# ---- helpers -------------------------------------------------------------------------------------------------


def scan_table() -> list[dict[str, Any]]:
    """Every item of the moto table, in a stable order."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": "TasksTable", "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def set_up_task(api: Api, state: str, poster: Agent, worker: Agent) -> dict[str, Any]:
    """A task posted by `poster`, brought to `state` by `worker`; returned as the poster sees it."""
    task_id = api.post_task(poster, title="authorization probe")["id"]
    if state in (CLAIMED, DELIVERED, REOPENED):
        assert api.post(f"/tasks/{task_id}/claim", key=worker.key).status == 200
    if state == DELIVERED:
        assert api.post(f"/tasks/{task_id}/deliver", {"result": RESULT}, key=worker.key).status == 200
    if state == REOPENED:
        assert api.post(f"/tasks/{task_id}/release", key=worker.key).status == 200
    seen = api.get(f"/tasks/{task_id}", key=poster.key).json()
    assert seen["status"] == ("open" if state in (REOPENED, SUBSCRIBED) else state)
    if state == SUBSCRIBED:
        # only for cancellations, so that no event of the set-up is delivered (and logged) during the call
        hook = api.post("/webhooks", {"url": HOOK_URL, "events": ["task.cancelled"]}, key=poster.key)
        assert hook.status == 201, hook.body
        seen["hook"] = hook.json()["id"]
    return seen


def check_success(
    endpoint: str, caller: str, agent: Agent | None, response: ProxyResponse, task: dict[str, Any]
) -> None:
    """What a call that was allowed must have done."""
    body = response.json()
    is_party = caller in (POSTER, WORKER)
    if endpoint == "create_key":
        assert body["key"].startswith("atb_") and body["id"]
    elif endpoint == "create_task":
        assert agent is not None and body["poster_id"] == agent.id and body["status"] == "open"
    elif endpoint == "list_tasks":
        listed = {item["id"]: item for item in body["tasks"]}
        assert task["id"] in listed
        if not is_party:
            assert listed[task["id"]]["result"] is None
    elif endpoint == "get_task":
        assert body["id"] == task["id"] and body["status"] == "delivered"
        # the result only for the poster and the worker who delivered it
        assert body["result"] == (RESULT if is_party else None)
    elif endpoint in ("next_task", "claim_next"):
        if caller == POSTER:  # never offered its own task
            assert body["task"] is None and body["retry"] is True
        else:
            assert body["task"]["id"] == task["id"]
            if endpoint == "claim_next":
                assert agent is not None and body["task"]["claimed_by"] == agent.id
    elif endpoint == "get_result":
        assert body["status"] == "delivered" and body["result"] == RESULT and body["retry"] is False
    elif endpoint == "create_hook":
        assert body["id"].startswith("wh_") and body["secret"].startswith("whsec_") and body["url"] == HOOK_URL
    elif endpoint == "list_hooks":  # each caller sees its own subscriptions only
        assert [hook["id"] for hook in body["webhooks"]] == ([task["hook"]] if caller == POSTER else [])
    elif endpoint in ("get_hook", "enable_hook"):
        assert body["id"] == task["hook"] and body["status"] == "active" and "secret" not in body
    elif endpoint == "delete_hook":
        assert body is None
    elif endpoint == "rotate_hook":
        assert body["id"] == task["hook"] and body["secret"].startswith("whsec_")
    elif endpoint == "test_hook":
        assert body["status"] == "queued" and body["event_id"].startswith("evt_")
    elif endpoint == "hook_log":
        assert body["deliveries"] == []
    elif endpoint == "events":  # the feed shows an event once it settled: none of a task posted just now
        assert body["events"] == [] and body["has_more"] is False
    else:
        assert body["id"] == task["id"] and body["status"] == CALLS[endpoint].status_after
    if endpoint in ("claim", "heartbeat", "deliver"):
        assert agent is not None and body["claimed_by"] == agent.id


# ---- the matrix ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "caller"), CELLS)
def test_access(api: Api, poster: Agent, worker: Agent, other: Agent, endpoint: str, caller: str) -> None:
    call = CALLS[endpoint]
    status, code = MATRIX[endpoint][CALLERS.index(caller)]
    agents = {ANOTHER_AGENT: other, POSTER: poster, WORKER: worker}
    keys = {ANONYMOUS: None, MALFORMED_KEY: MALFORMED, UNKNOWN_KEY: NEVER_ISSUED}
    agent = agents.get(caller)
    key = agent.key if agent else keys[caller]

    # Given a task in the state where this call succeeds for the right caller
    task = set_up_task(api, call.state, poster, worker)
    table_before = scan_table()

    # When the caller makes the call
    path = call.path.replace("{id}", task["id"]).replace("{hook}", task.get("hook", ""))
    response = api.call(call.method, path, json_body=call.body, key=key, query=call.query)

    # Then the status (and, for a refusal, the code) is the one the table says
    assert response.status == status, response.body
    seen = api.get(f"/tasks/{task['id']}", key=poster.key).json()
    if code is not None:
        assert response.json()["code"] == code
        # and a refused call changed nothing: not the task, not anything else in the table
        assert seen == {name: value for name, value in task.items() if name != "hook"}
        assert scan_table() == table_before
        return
    check_success(endpoint, caller, agent, response, task)
    if call.status_after is not None:
        assert seen["status"] == call.status_after
    elif endpoint == "claim_next" and caller != POSTER:
        assert seen["status"] == "claimed" and agent is not None and seen["claimed_by"] == agent.id
    elif endpoint in CALLS and CALLS[endpoint].path.startswith("/tasks") and endpoint != "create_task":
        assert seen == task  # a read changes nothing


# ---- how the key is sent -------------------------------------------------------------------------------------


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda key: {"x-api-key": key}, id="x-api-key"),
        pytest.param(lambda key: {"X-API-Key": key}, id="X-API-Key"),
        pytest.param(lambda key: {"Authorization": f"Bearer {key}"}, id="authorization-bearer"),
        pytest.param(lambda key: {"authorization": f"bearer {key}"}, id="authorization-bearer-lowercase"),
    ],
)
def test_key_is_accepted_as_x_api_key_and_as_bearer(api: Api, poster: Agent, worker: Agent, form: Any) -> None:
    # A key-only endpoint knows who is calling
    created = api.call("POST", "/tasks", json_body={"title": "sent with a header"}, headers=form(poster.key))
    assert created.status == 201, created.body
    assert created.json()["poster_id"] == poster.id
    # ... and so does an endpoint where the key is optional (the result is shown to the poster)
    task = set_up_task(api, DELIVERED, poster, worker)
    seen = api.get(f"/tasks/{task['id']}", headers=form(poster.key))
    assert seen.status == 200 and seen.json()["result"] == RESULT
    # ... and a poster-only one lets the poster in
    result = api.get(f"/tasks/{task['id']}/result", headers=form(poster.key), query="timeout=0")
    assert result.status == 200 and result.json()["result"] == RESULT


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda key: {"Authorization": _basic(key)}, id="basic"),
        pytest.param(lambda key: {"Authorization": f"Basic {key}"}, id="basic-raw-key"),
        pytest.param(lambda key: {"Authorization": key}, id="no-scheme"),
        pytest.param(lambda key: {"Authorization": f"Token {key}"}, id="token-scheme"),
        pytest.param(lambda key: {"Authorization": "Bearer "}, id="bearer-without-key"),
        pytest.param(lambda key: {"api-key": key}, id="other-header-name"),
    ],
)
def test_key_is_not_accepted_in_any_other_form(api: Api, poster: Agent, worker: Agent, form: Any) -> None:
    task = set_up_task(api, DELIVERED, poster, worker)
    before = scan_table()
    refused = api.call("POST", f"/tasks/{task['id']}/complete", headers=form(poster.key))
    assert refused.status == 401 and refused.json()["code"] == "unauthorized"
    created = api.call("POST", "/tasks", json_body={"title": "should not exist"}, headers=form(poster.key))
    assert created.status == 401 and created.json()["code"] == "unauthorized"
    assert scan_table() == before
    # where a key is optional, such a header does not identify the poster either: the result stays hidden
    seen = api.get(f"/tasks/{task['id']}", headers=form(poster.key))
    assert seen.status == 200 and seen.json()["result"] is None and seen.json()["status"] == "delivered"


def test_an_unknown_key_is_refused_as_bearer_too(api: Api, poster: Agent) -> None:
    task = api.post_task(poster)
    for key in (NEVER_ISSUED, MALFORMED):
        response = api.get(f"/tasks/{task['id']}", headers={"Authorization": f"Bearer {key}"})
        assert response.status == 401 and response.json()["code"] == "unauthorized"


# ---- how the key is stored -----------------------------------------------------------------------------------


def test_a_key_is_stored_only_as_its_hash(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    # Given keys that have been used on every kind of call
    task = set_up_task(api, DELIVERED, poster, worker)
    api.post(f"/tasks/{task['id']}/complete", key=poster.key)
    api.post_task(other, title="from the other agent")
    api.post("/tasks/next/claim", key=worker.key)
    api.get("/tasks", key=other.key, query="status=all")

    # When the whole table is read
    stored = json.dumps(scan_table())

    # Then no key appears in it, in full or without its prefix, but each one's SHA-256 does
    for agent in (poster, worker, other):
        assert agent.key.startswith("atb_")
        assert agent.key not in stored
        assert agent.key.removeprefix("atb_") not in stored
        assert f"KEY#{hashlib.sha256(agent.key.encode()).hexdigest()}" in stored
        assert agent.id in stored  # the scan did see the accounts


def test_the_key_is_checked_before_the_body(api: Api) -> None:
    """An anonymous caller hears 401 even when its body is also wrong: who you are is decided first."""
    for path, body in [("/tasks", {"title": 5}), ("/tasks/next/claim", {"agent_id": 7})]:
        response = api.post(path, body)
        assert response.status == 401 and response.json()["code"] == "unauthorized", path
    bad_key = api.post("/tasks", {"title": 5}, key="atb_" + "x" * 43)
    assert bad_key.status == 401
