"""Who may call what: every endpoint against every kind of caller, through the real handlers on moto.

The policy is the table in README.md ("Who may do what"): a row per endpoint, a column per caller, each cell
the expected status and, for a refusal, the error code. This module reads that table, so the documentation
cannot drift from what is tested; `CALLS` says how each endpoint is called and in which state its task is set
up. Each cell is its own test (`test_access[POST /tasks/{task_id}/deliver-another agent]`). Every task is set
up in the state where the call succeeds for the right caller, so a 401/403 is about who calls, never about the
task's state; a refused call must leave the table exactly as it was.

A row shares one stack (its callers registered once): a cell sets up its own task, tagged for it alone. The row's
stack reads no stream or queue, so nothing is written in the background (a queued test delivery, say) that could
look like a change made by a refused call.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from local.stack import ProxyResponse, Stack
from local.template import ROOT, function_routes, load_template
from tests.conftest import TEST_ENVIRONMENT
from tests.support import Agent, Api

# ---- the callers (the table's columns) -----------------------------------------------------------------------

ANONYMOUS = "anonymous"  # no key at all
BAD_KEY = "bad key"  # tried twice: a key not even shaped like ours, and a well-shaped one never issued
ANOTHER_AGENT = "another agent"  # a valid key: neither the poster nor the worker of the task
POSTER = "poster"  # posted the task (an agent registered by OWNER through a registration token)
WORKER = "worker"  # holds (or held, or is about to take) the task's claim
OWNER = "owner"  # the owner account that registered the poster
OPERATOR = "operator"  # the deployment's operator (made as `make operator-key` makes one: no route can)
CALLERS = (ANONYMOUS, BAD_KEY, ANOTHER_AGENT, POSTER, WORKER, OWNER, OPERATOR)

MALFORMED = "not-a-real-key"
NEVER_ISSUED = "atb_" + "A" * 43  # shaped like a key (atb_ + 43 characters) but never issued
BAD_KEYS = (MALFORMED, NEVER_ISSUED)

# ---- the policy, read from README.md -------------------------------------------------------------------------

Expected = tuple[int, str | None]


def read_policy() -> dict[str, tuple[Expected, ...]]:
    """The README's authorization table: "METHOD /path" -> one (status, code) per caller."""
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- authorization-table -->", 1)[1].split("<!-- /authorization-table -->", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines()]
    header, rows = [cell.strip() for cell in rows[0]], rows[2:]
    assert tuple(header[1:]) == CALLERS, header
    policy = {}
    for cells in rows:
        route = cells[0].strip().strip("`")
        expected = []
        for cell in cells[1:]:
            match = re.fullmatch(r"(\d{3})(?: (\w+))?", cell.strip())
            assert match, f"{route}: cannot read cell {cell!r}"
            expected.append((int(match.group(1)), match.group(2)))
        policy[route] = tuple(expected)
    return policy


MATRIX = read_policy()

# ---- the states a task (or an account) is set up in before the call ------------------------------------------

OPEN = "open"  # posted by the poster, never claimed
CLAIMED = "claimed"  # claimed by the worker
DELIVERED = "delivered"  # claimed and delivered by the worker
REOPENED = "reopened"  # claimed by the worker, then released: open again, the worker is a past worker
COMPLETED = "completed"  # delivered by the worker and completed by the poster
REVIEWED = "reviewed"  # completed, and reviewed by the poster
REVISABLE = "revisable"  # delivered, and posted with one revision included
TASK_DISPUTED = "task disputed"  # delivered, and disputed by the poster
SUBSCRIBED = "subscribed"  # open, and the poster holds a webhook subscription ("{webhook_id}" is its id)
TOKEN = "token"  # open, and an owner issued a registration token ("{token}", "{new_agent}" in the body)
TWO_KEYS = "two keys"  # open, and the poster holds a second key ("{key_id}" is its id)
# Gigs and orders: the worker sells, the poster buys ("{gig_id}" is the worker's gig; the "task" is the order)
GIG = "gig"  # an open task, and the worker lists a free gig
PENDING = "order pending"  # the poster ordered the worker's gig (price 5)
STARTED = "order started"  # ... and the worker started it
ORDER_DELIVERED = "order delivered"  # ... and delivered it
ORDER_COMPLETED = "order completed"  # ... and the poster approved it
DISPUTED = "order disputed"  # delivered, and the poster disputed it
ORDER_STATES = (PENDING, STARTED, ORDER_DELIVERED, ORDER_COMPLETED, DISPUTED)
HOOK_URL = "http://127.0.0.1:9/hook"  # nothing listens there: a delivery would fail (and write its log)

RESULT = {"answer": 42}
EXTRAS = ("hook", "token", "key_id", "new_agent", "probe_gig")  # what a set-up adds to the task it returns


@dataclass(frozen=True)
class Call:
    """How each endpoint is called, and the state its task is set up in first."""

    state: str
    body: Any = None
    query: str = ""
    status_after: str | None = None  # the task's status after a successful call (None: unchanged)
    method: str = ""
    path: str = ""


# fmt: off
CALLS: dict[str, Call] = {
    "GET /docs":                          Call(OPEN),
    "GET /openapi.json":                  Call(OPEN),
    "POST /keys":                         Call(OPEN, body={"name": "new agent"}),
    "POST /agents/register":              Call(OPEN, body={"name": "new agent", "capabilities": ["CODING"]}),
    "POST /owners/register":              Call(OPEN, body={"name": "a new owner"}),
    "POST /agents/connect":               Call(TOKEN, body={"registration_token": "{token}", "agent_id": "{new_agent}",
                                                            "agent_name": "connected"}),
    "POST /agents/register-token":        Call(OPEN, body={"agent_id": "{new_agent}"}),
    "GET /agents":                        Call(OPEN),
    "GET /agents/{agent_id}":             Call(OPEN),
    "GET /agents/{agent_id}/reviews":     Call(REVIEWED),
    "GET /categories":                    Call(OPEN),
    "GET /agents/me":                     Call(OPEN),
    "PATCH /agents/me":                   Call(OPEN, body={"status": "busy", "capabilities": ["Research"]}),
    "POST /agents/me/keys":               Call(OPEN),
    "GET /agents/me/keys":                Call(OPEN),
    "DELETE /agents/me/keys/{key_id}":    Call(TWO_KEYS),
    "GET /wallet":                        Call(OPEN),
    "GET /wallet/ledger":                 Call(OPEN),
    "POST /tasks":                        Call(OPEN, body={"title": "another task"}),
    "GET /tasks":                         Call(DELIVERED, query="status=all"),
    "GET /tasks/{task_id}":               Call(DELIVERED),
    "GET /tasks/next":                    Call(OPEN, query="timeout=0&skills={tag}"),
    "POST /tasks/next/claim":             Call(OPEN, query="timeout=0&skills={tag}"),
    "POST /tasks/{task_id}/claim":        Call(OPEN, status_after="claimed"),
    "POST /tasks/{task_id}/heartbeat":    Call(CLAIMED, status_after="claimed"),
    "POST /tasks/{task_id}/release":      Call(CLAIMED, status_after="open"),
    "POST /tasks/{task_id}/deliver":      Call(CLAIMED, body={"result": RESULT}, status_after="delivered"),
    "GET /tasks/{task_id}/result":        Call(DELIVERED, query="timeout=0"),
    "POST /tasks/{task_id}/complete":     Call(DELIVERED, status_after="completed"),
    "POST /tasks/{task_id}/reject":       Call(DELIVERED, body={"reason": "too short"}, status_after="open"),
    "POST /tasks/{task_id}/cancel":       Call(REOPENED, status_after="cancelled"),
    "POST /tasks/{task_id}/review":       Call(COMPLETED, body={"rating": 4, "comment": "thanks", "tip": 3}),
    "POST /tasks/{task_id}/revision":     Call(REVISABLE, body={"feedback": "more"}, status_after="claimed"),
    "POST /tasks/{task_id}/dispute":      Call(DELIVERED, body={"reason": "not it"}, status_after="disputed"),
    "POST /tasks/{task_id}/resolve":      Call(TASK_DISPUTED, body={"outcome": "refund", "note": "fair"},
                                               status_after="cancelled"),
    "POST /webhooks":                     Call(OPEN, body={"url": HOOK_URL}),
    "GET /webhooks":                      Call(SUBSCRIBED),
    "GET /webhooks/{webhook_id}":         Call(SUBSCRIBED),
    "DELETE /webhooks/{webhook_id}":      Call(SUBSCRIBED),
    "POST /webhooks/{webhook_id}/rotate": Call(SUBSCRIBED),
    "POST /webhooks/{webhook_id}/enable": Call(SUBSCRIBED),
    "POST /webhooks/{webhook_id}/test":   Call(SUBSCRIBED),
    "GET /webhooks/{webhook_id}/deliveries": Call(SUBSCRIBED),
    "GET /events":                        Call(OPEN),
    "POST /gigs":                         Call(OPEN, body={"title": "a gig", "category": "coding", "price": 3,
                                                            "delivery_days": 1}),
    "GET /gigs":                          Call(GIG),
    "GET /gigs/{gig_id}":                 Call(GIG),
    "PATCH /gigs/{gig_id}":               Call(GIG, body={"price": 7, "status": "paused"}),
    "POST /orders":                       Call(GIG, body={"gig_id": "{gig_id}", "requirements": "please"}),
    "GET /orders":                        Call(PENDING),
    "GET /orders/{order_id}":             Call(ORDER_DELIVERED),
    "POST /orders/{order_id}/start":      Call(PENDING, status_after="in_progress"),
    "POST /orders/{order_id}/decline":    Call(PENDING, body={"reason": "busy"}, status_after="cancelled"),
    "POST /orders/{order_id}/deliver":    Call(STARTED, body={"message": "done", "result": RESULT},
                                               status_after="delivered"),
    "POST /orders/{order_id}/approve":    Call(ORDER_DELIVERED, status_after="completed"),
    "POST /orders/{order_id}/revision":   Call(ORDER_DELIVERED, body={"feedback": "more"}, status_after="in_progress"),
    "POST /orders/{order_id}/cancel":     Call(PENDING, status_after="cancelled"),
    "POST /orders/{order_id}/dispute":    Call(ORDER_DELIVERED, body={"reason": "not it"}, status_after="disputed"),
    "POST /orders/{order_id}/resolve":    Call(DISPUTED, body={"outcome": "split", "buyer_amount": 2,
                                                               "seller_amount": 3, "note": "fair"},
                                               status_after="completed"),
    "POST /orders/{order_id}/review":     Call(ORDER_COMPLETED, body={"rating": 4, "tip": 1}),
    "GET /disputes":                      Call(DISPUTED),
}
# fmt: on
for _route, _call in CALLS.items():
    object.__setattr__(_call, "method", _route.split(" ", 1)[0])
    object.__setattr__(_call, "path", _route.split(" ", 1)[1])

ROUTES = list(MATRIX)


def test_the_table_covers_every_endpoint_of_the_template() -> None:
    routes = {f"{route.method} {route.path}" for route in function_routes(load_template())}
    assert set(MATRIX) == routes
    assert len(routes) == 61
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
    for item in items:  # when a key was last used is the authorizer's bookkeeping, not a change by the call
        if item["pk"]["S"].startswith("KEY#"):
            item.pop("last_used_at", None)
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def set_up_task(api: Api, state: str, poster: Agent, worker: Agent, owner: Agent | None = None) -> dict[str, Any]:
    """A task posted by `poster` with a tag of its own, brought to `state` by `worker` (and the poster);
    returned as the poster sees it."""
    if state in ORDER_STATES:
        return set_up_order(api, state, poster, worker)
    tag = f"probe-{uuid.uuid4().hex[:12]}"
    revisions = 1 if state == REVISABLE else 0
    task_id = api.post_task(poster, title="authorization probe", tags=[tag], revisions_included=revisions)["id"]
    if state in (CLAIMED, DELIVERED, REOPENED, COMPLETED, REVIEWED, REVISABLE, TASK_DISPUTED):
        assert api.post(f"/tasks/{task_id}/claim", key=worker.key).status == 200
    if state in (DELIVERED, COMPLETED, REVIEWED, REVISABLE, TASK_DISPUTED):
        assert api.post(f"/tasks/{task_id}/deliver", {"result": RESULT}, key=worker.key).status == 200
    if state == TASK_DISPUTED:
        assert api.post(f"/tasks/{task_id}/dispute", {"reason": "probe"}, key=poster.key).status == 200
    if state in (COMPLETED, REVIEWED):
        assert api.post(f"/tasks/{task_id}/complete", key=poster.key).status == 200
    if state == REVIEWED:
        assert api.post(f"/tasks/{task_id}/review", {"rating": 5}, key=poster.key).status == 201
    if state == REOPENED:
        assert api.post(f"/tasks/{task_id}/release", key=worker.key).status == 200
    seen = api.get(f"/tasks/{task_id}", key=poster.key).json()
    expected = {CLAIMED: "claimed", DELIVERED: "delivered", COMPLETED: "completed", REVIEWED: "completed"}
    expected |= {REVISABLE: "delivered", TASK_DISPUTED: "disputed"}
    assert seen["status"] == expected.get(state, "open")
    if state == SUBSCRIBED:
        # only for cancellations, so that no event of the set-up is delivered (and logged) during the call
        hook = api.post("/webhooks", {"url": HOOK_URL, "events": ["task.cancelled"]}, key=poster.key)
        assert hook.status == 201, hook.body
        seen["hook"] = hook.json()["id"]
    seen["new_agent"] = f"fresh-{uuid.uuid4().hex[:12]}"  # an agent_id no one has taken
    if state == TOKEN:
        assert owner is not None
        issued = api.post("/agents/register-token", {"agent_id": seen["new_agent"]}, key=owner.key)
        assert issued.status == 201, issued.body
        seen["token"] = issued.json()["registration_token"]
    if state == TWO_KEYS:
        second = api.post("/agents/me/keys", key=poster.key)
        assert second.status == 201, second.body
        seen["key_id"] = second.json()["key_id"]
    if state == GIG:
        seen["probe_gig"] = listed_gig(api, worker, price=0)
    return seen


def listed_gig(api: Api, seller: Agent, price: int) -> str:
    body = {"title": "probe gig", "category": "coding", "price": price, "delivery_days": 1, "revisions_included": 1}
    made = api.post("/gigs", body, key=seller.key)
    assert made.status == 201, made.body
    return str(made.json()["id"])


def set_up_order(api: Api, state: str, buyer: Agent, seller: Agent) -> dict[str, Any]:
    """An order of the seller's gig by the buyer, brought to `state`; returned as the buyer sees it."""
    gig_id = listed_gig(api, seller, price=5)
    placed = api.post("/orders", {"gig_id": gig_id, "requirements": "probe"}, key=buyer.key)
    assert placed.status == 201, placed.body
    order_id = placed.json()["id"]
    steps = [("start", seller, None), ("deliver", seller, {"message": "done"}), ("approve", buyer, None)]
    wanted = {PENDING: 0, STARTED: 1, ORDER_DELIVERED: 2, DISPUTED: 2, ORDER_COMPLETED: 3}[state]
    for action, agent, body in steps[:wanted]:
        assert api.post(f"/orders/{order_id}/{action}", body, key=agent.key).status == 200
    if state == DISPUTED:
        assert api.post(f"/orders/{order_id}/dispute", {"reason": "probe"}, key=buyer.key).status == 200
    seen: dict[str, Any] = api.get(f"/orders/{order_id}", key=buyer.key).json()
    assert seen["gig_id"] == gig_id
    seen["new_agent"] = f"fresh-{uuid.uuid4().hex[:12]}"
    return seen


def view_of(api: Api, task: dict[str, Any], poster: Agent) -> dict[str, Any]:
    """The task (or the order) as its poster (its buyer) sees it now."""
    kind = "orders" if "buyer_id" in task else "tasks"
    return dict(api.get(f"/{kind}/{task['id']}", key=poster.key).json())


def check_success(
    api: Api, route: str, caller: str, agent: Agent | None, response: ProxyResponse, task: dict[str, Any], poster: Agent
) -> None:
    """What a call that was allowed must have done."""
    if route == "GET /docs":  # the page, the same for everyone
        assert response.headers["Content-Type"].startswith("text/html") and "claimTask" in response.body
        return
    body = response.json()
    sees_result = caller in (POSTER, WORKER, OWNER)
    if route == "GET /openapi.json":
        assert body["openapi"].startswith("3.1") and "/tasks/{task_id}/claim" in body["paths"]
    elif route == "POST /keys":
        assert body["key"].startswith("atb_") and body["id"]
    elif route in ("POST /agents/register", "POST /owners/register", "POST /agents/connect"):
        assert body["key"].startswith("atb_") and body["account"]["id"]
        assert body["account"]["kind"] == ("owner" if route == "POST /owners/register" else "agent")
        if route == "POST /agents/connect":
            assert body["account"]["id"] == task["new_agent"] and body["account"]["owner_id"]
    elif route == "POST /agents/register-token":
        assert body["registration_token"].startswith("atr_") and body["agent_id"] == task["new_agent"]
    elif route == "GET /agents":
        assert poster.id in [item["id"] for item in body["agents"]]
    elif route == "GET /agents/{agent_id}":
        assert body["id"] == poster.id and "email" not in body
    elif route == "GET /agents/{agent_id}/reviews":
        assert task["id"] in [review["task_id"] for review in body["reviews"]]
        assert all(review["worker_id"] != poster.id for review in body["reviews"])
    elif route == "POST /tasks/{task_id}/review":
        assert body["review"]["task_id"] == task["id"] and body["review"]["rating"] == 4
        assert body["review"]["tip"] == 3 and body["worker"]["rating_count"] >= 1
        assert api.get(f"/tasks/{task['id']}").json()["review"]["rating"] == 4
    elif route in ("GET /agents/me", "PATCH /agents/me"):
        assert agent is not None and body["id"] == agent.id and body["key_count"] >= 1
        if route == "PATCH /agents/me":
            assert body["status"] == "busy" and body["capabilities"] == ["research"]
    elif route == "POST /agents/me/keys":
        assert body["key"].startswith("atb_") and body["key_id"].startswith("key_")
    elif route == "GET /agents/me/keys":
        assert len(body["keys"]) == 1 and "key" not in body["keys"][0]
    elif route == "DELETE /agents/me/keys/{key_id}":
        assert body is None
        remaining = api.get("/agents/me/keys", key=poster.key).json()["keys"]
        assert task["key_id"] not in [item["key_id"] for item in remaining] and len(remaining) >= 1
    elif route == "GET /wallet":  # each caller sees its own: an agent's sign-up grant, an owner's nothing
        assert agent is not None and body["account_id"] == agent.id
        assert (body["balance"], body["escrowed"]) == ((0, 0) if caller in (OWNER, OPERATOR) else (100, 0))
    elif route == "GET /wallet/ledger":
        assert [entry["type"] for entry in body["entries"]] == ([] if caller in (OWNER, OPERATOR) else ["grant"])
    elif route == "POST /tasks":
        assert agent is not None and body["poster_id"] == agent.id and body["status"] == "open"
    elif route == "GET /tasks":
        listed = {item["id"]: item for item in body["tasks"]}
        assert task["id"] in listed
        assert listed[task["id"]]["result"] is None  # a list never shows results: GET /tasks/{task_id} does
    elif route == "GET /tasks/{task_id}":
        assert body["id"] == task["id"] and body["status"] == "delivered"
        # the result only for the poster, the worker who delivered it, and the poster's owner
        assert body["result"] == (RESULT if sees_result else None)
    elif route in ("GET /tasks/next", "POST /tasks/next/claim"):
        if caller in (POSTER, OWNER):  # never offered its own task, nor its owner (one party)
            assert body["task"] is None and body["retry"] is True
        else:
            assert body["task"]["id"] == task["id"]
            if route == "POST /tasks/next/claim":
                assert agent is not None and body["task"]["claimed_by"] == agent.id
    elif route == "GET /tasks/{task_id}/result":
        assert body["status"] == "delivered" and body["result"] == RESULT and body["retry"] is False
    elif route == "POST /webhooks":
        assert body["id"].startswith("wh_") and body["secret"].startswith("whsec_") and body["url"] == HOOK_URL
    elif route == "GET /webhooks":  # each caller sees its own subscriptions only
        listed = [hook["id"] for hook in body["webhooks"]]
        assert (task["hook"] in listed) if caller == POSTER else listed == []
    elif route in ("GET /webhooks/{webhook_id}", "POST /webhooks/{webhook_id}/enable"):
        assert body["id"] == task["hook"] and body["status"] == "active" and "secret" not in body
    elif route == "DELETE /webhooks/{webhook_id}":
        assert body is None
    elif route == "POST /webhooks/{webhook_id}/rotate":
        assert body["id"] == task["hook"] and body["secret"].startswith("whsec_")
    elif route == "POST /webhooks/{webhook_id}/test":
        assert body["status"] == "queued" and body["event_id"].startswith("evt_")
    elif route == "GET /webhooks/{webhook_id}/deliveries":
        assert body["deliveries"] == []
    elif route == "GET /categories":  # the same list for everyone: the shipped default here
        assert "coding" in [category["slug"] for category in body["categories"]]
    elif route == "GET /events":  # the feed shows an event once it settled: none of a task posted just now
        assert task["id"] not in [event["data"]["task"]["id"] for event in body["events"]]
    elif route == "POST /gigs":
        assert agent is not None and body["seller_id"] == agent.id and body["status"] == "active"
    elif route in ("GET /gigs", "GET /gigs/{gig_id}"):
        shown = body["gigs"] if route == "GET /gigs" else [body]
        assert task["probe_gig"] in [gig["id"] for gig in shown]
    elif route == "PATCH /gigs/{gig_id}":
        assert (body["price"], body["status"], body["version"]) == (7, "paused", 2)
    elif route == "POST /orders":
        assert agent is not None and body["buyer_id"] == agent.id and body["status"] == "pending"
        assert body["gig_id"] == task["probe_gig"] and body["my_role"] == "buyer"
    elif route == "GET /orders":  # each caller its own: the buyer's and the seller's lists hold the order
        listed = [order["id"] for order in body["orders"]]
        assert (task["id"] in listed) if caller in (POSTER, WORKER) else listed == []
    elif route == "GET /orders/{order_id}":
        roles = {POSTER: "buyer", WORKER: "seller", OWNER: "owner"}  # the operator: only once disputed
        assert body["id"] == task["id"] and body["my_role"] == roles[caller]
        assert body["delivery"]["message"] == "done"
    elif route == "POST /orders/{order_id}/approve":
        assert body["order"]["status"] == "completed" and body["payment"]["total"] == 5
    elif route == "POST /orders/{order_id}/review":
        assert body["review"]["task_id"] == task["id"] and body["review"]["rating"] == 4
    elif route == "GET /disputes":  # the row's earlier cells left their disputes open too
        orders = [dispute["order"] for dispute in body["disputes"] if dispute["kind"] == "order"]
        assert task["id"] in [order["id"] for order in orders]
        assert {order["status"] for order in orders} == {"disputed"}
    elif route == "POST /tasks/{task_id}/resolve":  # the operator sees the result it judged
        assert body["status"] == "cancelled" and body["result"] == RESULT and body["resolution"]["outcome"] == "refund"
    elif route == "POST /orders/{order_id}/resolve":
        assert body["status"] == "completed" and body["resolution"]["buyer_amount"] == 2
    else:
        assert body["id"] == task["id"] and body["status"] == CALLS[route].status_after
    if route.endswith(("/claim", "/heartbeat", "/deliver")) and "next" not in route and "orders" not in route:
        assert agent is not None and body["claimed_by"] == agent.id


# ---- the matrix ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row's stack and callers."""

    api: Api
    poster: Agent  # registered by `owner` through a registration token
    worker: Agent
    other: Agent
    owner: Agent
    operator: Agent


@pytest.fixture(scope="module")
def row(request: pytest.FixtureRequest) -> Iterator[Row]:
    """A stack for one row of the table (the route is the parameter), with its callers registered."""
    with Stack(environment=TEST_ENVIRONMENT) as stack:
        api = Api(stack)
        made = api.post("/owners/register", {"name": "the poster's owner"})
        assert made.status == 201, made.body
        owner = Agent(key=made.json()["key"], id=made.json()["account"]["id"])
        token = api.post("/agents/register-token", {"agent_id": "the-poster"}, key=owner.key).json()
        body = {"registration_token": token["registration_token"], "agent_id": "the-poster", "agent_name": "poster"}
        connected = api.post("/agents/connect", body)
        assert connected.status == 201, connected.body
        poster = Agent(key=connected.json()["key"], id="the-poster")
        stack.stop_pollers()  # nothing happens in the background: see the module's docstring
        operator = Agent(*stack.operator_key())
        yield Row(api, poster, api.new_agent(name="worker"), api.new_agent(name="someone else"), owner, operator)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", ROUTES, indirect=True)
def test_access(row: Row, caller: str, request: pytest.FixtureRequest) -> None:
    route = request.node.callspec.params["row"]
    api, poster, worker, other, owner = row.api, row.poster, row.worker, row.other, row.owner
    call = CALLS[route]
    status, code = MATRIX[route][CALLERS.index(caller)]
    agents = {ANOTHER_AGENT: other, POSTER: poster, WORKER: worker, OWNER: owner, OPERATOR: row.operator}
    agent = agents.get(caller)
    keys = [agent.key] if agent else ([None] if caller == ANONYMOUS else list(BAD_KEYS))

    for key in keys:
        # Given a task in the state where this call succeeds for the right caller
        task = set_up_task(api, call.state, poster, worker, owner)
        table_before = scan_table()

        # When the caller makes the call
        path = (
            call.path.replace("{task_id}", task["id"])
            .replace("{webhook_id}", task.get("hook", ""))
            .replace("{agent_id}/reviews", f"{worker.id}/reviews")
            .replace("{agent_id}", poster.id)
            .replace("{key_id}", task.get("key_id", ""))
            .replace("{gig_id}", task.get("probe_gig", ""))
            .replace("{order_id}", task["id"])
        )
        body = json.loads(
            json.dumps(call.body)
            .replace("{token}", task.get("token", ""))
            .replace("{new_agent}", task["new_agent"])
            .replace("{gig_id}", task.get("probe_gig", ""))
        )
        query = call.query.replace("{tag}", task["tags"][0]) if "{tag}" in call.query else call.query
        response = api.call(call.method, path, json_body=body, key=key, query=query)

        # Then the status (and, for a refusal, the code) is the one the table says
        assert response.status == status, response.body
        seen = view_of(api, task, poster)
        if code is not None or status == 401:
            if code is not None:
                assert response.json()["code"] == code
            # and a refused call changed nothing: not the task, not anything else in the table
            assert seen == {name: value for name, value in task.items() if name not in EXTRAS}
            assert scan_table() == table_before
            continue
        check_success(api, route, caller, agent, response, task, poster)
        if call.status_after is not None:
            assert seen["status"] == call.status_after
        elif route == "POST /tasks/next/claim" and caller not in (POSTER, OWNER):
            assert seen["status"] == "claimed" and agent is not None and seen["claimed_by"] == agent.id
        elif route.startswith(("GET /tasks", "GET /gigs", "GET /orders", "GET /disputes")):
            assert seen == {name: value for name, value in task.items() if name not in EXTRAS}  # reads change nothing
