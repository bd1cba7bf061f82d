"""No write commits behind a 5xx: every write endpoint of the template (each POST, PATCH and DELETE), fuzzed with
hostile JSON bodies (deep nesting, NaN and Infinity, huge numbers, arrays and scalars at the top, duplicate keys,
control and bidi characters, unpaired surrogates, bytes that are not UTF-8, wrong types), through the real
handlers on moto. Whatever the body: never a 5xx, and an answer that is not a 2xx leaves the tables exactly as
they were. After an accepted request the shared listings still answer 200.

Each body starts from the route's own request example (docs/openapi.json), so the hostile part reaches the
route's logic with every other field valid, and each route is called by the caller it is for, on a task in the
state where the call succeeds (set up again after each success). Bounded: EXAMPLES bodies per route."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.openapi import OPENAPI_FILE
from local.stack import Stack
from local.template import function_routes, load_template
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.test_hostile_json import snapshot
from tests.support import Agent, Api

EXAMPLES = 12  # bodies per route: 23 routes in well under a minute
HOOK_URL = "http://127.0.0.1:9/hook"  # the local stack allows loopback webhooks; nothing listens there

WRITES = sorted(
    f"{route.method} {route.path}"
    for route in function_routes(load_template())
    if route.method in ("POST", "PATCH", "PUT", "DELETE")
)
DOCUMENT = json.loads(OPENAPI_FILE.read_text())


def request_schema(route: str) -> tuple[dict[str, Any], list[str]]:
    """The route's first request example (or {}) and the fields its body model has, from the OpenAPI document."""
    method, path = route.split(" ", 1)
    content = DOCUMENT["paths"][path][method.lower()].get("requestBody", {}).get("content", {})
    media = content.get("application/json", {})
    examples = [example["value"] for example in media.get("examples", {}).values()]
    schema = media.get("schema") or {}
    refs = [schema.get("$ref")] + [option.get("$ref") for option in schema.get("anyOf", [])]
    fields: list[str] = []
    for ref in filter(None, refs):
        fields += list(DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]].get("properties", {}))
    return (dict(examples[0]) if examples else {}), fields


# ---- hostile bodies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text put into the body as it is (what json.dumps would never write)."""

    text: str


def render(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Pairs):
        return "{" + ", ".join(f"{json.dumps(key)}: {render(item)}" for key, item in value.pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(item) for item in value) + "]"
    return json.dumps(value)


@dataclass
class Pairs:
    """An object as its key/value pairs, in order: a key may come twice."""

    pairs: list[tuple[str, Any]] = field(default_factory=list)


SPOOFING = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u200f", "\u2028", "\r", "\n", "\t"]
TEXT = st.text(alphabet=st.sampled_from([*SPOOFING, "a", "Z", "0", " ", "é", "😀", '"', "\\", "<"]), max_size=12)
DEPTHS = st.sampled_from([18, 19, 20, 21, 40, 254, 255, 300, 3_000])
NUMBERS = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e309", "2.5e-400", "-0"]).map(Raw)
DIGITS = st.sampled_from([19, 20, 21, 40, 4_300, 4_301, 5_000]).flatmap(
    lambda n: st.sampled_from(["", "-"]).map(lambda sign: Raw(sign + "9" * n))
)
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def deep(depth: int, kind: str) -> Raw:
    if kind == "array":
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1))


HOSTILE = st.one_of(
    st.builds(deep, DEPTHS, st.sampled_from(["array", "object"])),
    NUMBERS,
    DIGITS,
    TEXT,
    st.sampled_from(['"\\ud800"', '"a\\udfffb"', '{"\\ud83d": 1}', '"\\ud83d\\ude00"']).map(Raw),
    PLAIN,
)


@dataclass(frozen=True)
class Mutation:
    kind: str  # "set": field = value; "twice": the field again; "top": the body is `value` instead
    name: str = ""
    value: Any = None


def mutations(fields: list[str]) -> st.SearchStrategy[list[Mutation]]:
    names = st.sampled_from(fields) if fields else st.just("extra")
    names = names | TEXT
    one = st.one_of(
        st.builds(Mutation, st.just("set"), names, HOSTILE),
        st.builds(Mutation, st.just("twice"), names, HOSTILE),
        st.builds(Mutation, st.just("top"), st.just(""), st.sampled_from(["array", "scalar", "null", "empty"])),
        st.builds(Mutation, st.just("bytes"), st.just(""), st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])),
    )
    return st.lists(one, min_size=1, max_size=3)


def hostile_body(base: dict[str, Any], changes: list[Mutation]) -> str | bytes:
    body = Pairs(list(base.items()))
    top: str | None = None
    bad_bytes: bytes | None = None
    for change in changes:
        if change.kind == "set":
            body.pairs = [(key, value) for key, value in body.pairs if key != change.name] + [
                (change.name, change.value)
            ]
        elif change.kind == "twice":
            body.pairs += [(change.name, change.value)] * (1 if change.name in dict(body.pairs) else 2)
        elif change.kind == "top":
            top = change.name or change.value
        else:
            bad_bytes = change.value
    text = render(body)
    if top == "array":
        text = f"[{text}, {text}]"
    elif top == "scalar":
        text = json.dumps("just a string")
    elif top == "null":
        text = "null"
    elif top == "empty":
        text = "   "
    if bad_bytes is not None:
        return text.encode().replace(b"{", b"{" + bad_bytes, 1) if "{" in text else text.encode() + bad_bytes
    return text


# ---- the callers, and the state each route is called in -------------------------------------------------------


@dataclass
class Board:
    stack: Stack
    api: Api
    owner: Agent
    operator_key: str


@pytest.fixture(scope="module")
def board() -> Iterator[Board]:
    with Stack(environment=TEST_ENVIRONMENT) as stack:
        api = Api(stack)
        made = api.post("/owners/register", {"name": "fuzz owner"})
        assert made.status == 201, made.body
        owner = Agent(key=made.json()["key"], id=made.json()["account"]["id"])
        stack.stop_pollers()  # nothing written in the background that could look like a change made by a call
        yield Board(stack, api, owner, stack.operator_key()[0])


@dataclass
class Target:
    """Where one call goes: the path, the caller's key, the query, and the base body with what the set-up made."""

    path: str
    key: str | None
    query: str = ""
    base: dict[str, Any] = field(default_factory=dict)


def prepare(board: Board, route: str, poster: Agent, worker: Agent, example: dict[str, Any]) -> Target:
    """A fresh task (or subscription, key, token) in the state where `route` succeeds for its caller."""
    api = board.api
    path = route.split(" ", 1)[1]
    base = dict(example)
    tag = f"fuzz-{uuid.uuid4().hex[:10]}"

    def task(state: str) -> str:
        revisions = 1 if state == "revisable" else 0
        task_id: str = api.post_task(poster, title="fuzz target", tags=[tag], revisions_included=revisions)["id"]
        if state in ("claimed", "delivered", "completed", "revisable", "disputed"):
            assert api.post(f"/tasks/{task_id}/claim", key=worker.key).status == 200
        if state in ("delivered", "completed", "revisable", "disputed"):
            assert api.post(f"/tasks/{task_id}/deliver", {"result": 1}, key=worker.key).status == 200
        if state == "disputed":
            assert api.post(f"/tasks/{task_id}/dispute", {"reason": "fuzz"}, key=poster.key).status == 200
        if state == "completed":
            assert api.post(f"/tasks/{task_id}/complete", key=poster.key).status == 200
        return task_id

    if route in ("POST /keys", "POST /agents/register", "POST /owners/register"):
        return Target(path, None, base=base)
    if route == "POST /agents/connect":
        agent_id = f"fuzz-{uuid.uuid4().hex[:12]}"
        token = api.post("/agents/register-token", {"agent_id": agent_id}, key=board.owner.key)
        assert token.status == 201, token.body
        base |= {"registration_token": token.json()["registration_token"], "agent_id": agent_id}
        return Target(path, None, base=base)
    if route == "POST /agents/register-token":
        return Target(path, board.owner.key, base=base | {"agent_id": f"fuzz-{uuid.uuid4().hex[:12]}"})
    if route in ("PATCH /agents/me", "POST /agents/me/keys", "POST /tasks", "POST /webhooks"):
        return Target(path, poster.key, base=base | ({"url": HOOK_URL} if route == "POST /webhooks" else {}))
    if route == "DELETE /agents/me/keys/{key_id}":
        second = api.post("/agents/me/keys", key=poster.key)
        assert second.status == 201, second.body
        return Target(path.replace("{key_id}", second.json()["key_id"]), poster.key, base=base)
    if route == "POST /tasks/next/claim":
        task("open")
        return Target(path, worker.key, query=f"skills={tag}&timeout=0", base=base)
    if path.startswith("/webhooks/{webhook_id}"):
        hook = api.post("/webhooks", {"url": HOOK_URL, "events": ["task.cancelled"]}, key=poster.key)
        assert hook.status == 201, hook.body
        return Target(path.replace("{webhook_id}", hook.json()["id"]), poster.key, base=base)
    if route in ("POST /gigs", "POST /orders") or path.startswith(("/gigs/", "/orders/")):
        return order_target(board, route, path, poster, worker, base)
    states = {
        "claim": ("open", worker),
        "heartbeat": ("claimed", worker),
        "release": ("claimed", worker),
        "deliver": ("claimed", worker),
        "complete": ("delivered", poster),
        "reject": ("delivered", poster),
        "cancel": ("open", poster),
        "review": ("completed", poster),
        "revision": ("revisable", poster),
        "dispute": ("delivered", poster),
        "resolve": ("disputed", None),
    }
    action = path.rsplit("/", 1)[1]
    assert path.startswith("/tasks/{task_id}/") and action in states, f"no set-up for {route}: add one"
    state, caller = states[action]
    if action == "resolve":  # the operator's; the example splits 20 credits of an unpaid task: a refund instead
        base = {"outcome": "refund", "note": base.get("note", "fuzz")}
        return Target(path.replace("{task_id}", task(state)), board.operator_key, base=base)
    assert caller is not None
    return Target(path.replace("{task_id}", task(state)), caller.key, base=base)


def order_target(board: Board, route: str, path: str, buyer: Agent, seller: Agent, base: dict[str, Any]) -> Target:
    """A gig of the seller (price 1), and for an order route an order of it by the buyer in the state where the
    route succeeds for its caller (the operator's, for a resolution)."""
    api = board.api
    gig = {"title": "fuzz gig", "category": "coding", "price": 1, "delivery_days": 1, "revisions_included": 1}
    made = api.post("/gigs", gig, key=seller.key)
    assert made.status == 201, made.body
    gig_id = made.json()["id"]
    if route == "POST /gigs":
        return Target(path, seller.key, base=base)
    if route == "PATCH /gigs/{gig_id}":
        return Target(path.replace("{gig_id}", gig_id), seller.key, base=base)
    if route == "POST /orders":
        return Target(path, buyer.key, base=base | {"gig_id": gig_id})
    placed = api.post("/orders", {"gig_id": gig_id}, key=buyer.key)
    assert placed.status == 201, placed.body
    order_id = placed.json()["id"]
    action = path.rsplit("/", 1)[1]
    steps = [("start", seller, None), ("deliver", seller, {"message": "done"}), ("approve", buyer, None)]
    done = {"start": 0, "decline": 0, "cancel": 0, "deliver": 1, "approve": 2, "revision": 2, "dispute": 2}
    done |= {"resolve": 2, "review": 3}
    assert action in done, f"no set-up for {route}: add one"
    for step, agent, body in steps[: done[action]]:
        assert api.post(f"/orders/{order_id}/{step}", body, key=agent.key).status == 200
    if action == "resolve":
        assert api.post(f"/orders/{order_id}/dispute", {"reason": "fuzz"}, key=buyer.key).status == 200
    caller = {"start": seller, "decline": seller, "deliver": seller}.get(action, buyer)
    key = board.operator_key if action == "resolve" else caller.key
    if action == "resolve":  # the example splits 20 credits: a price-1 order is refunded instead
        base = {"outcome": "refund", "note": base.get("note", "fuzz")}
    return Target(path.replace("{order_id}", order_id), key, base=base)


def test_every_write_route_of_the_template_is_fuzzed() -> None:
    assert len(WRITES) == 38, WRITES
    assert all(route.split(" ", 1)[1] in DOCUMENT["paths"] for route in WRITES)


@pytest.mark.parametrize("route", WRITES)
def test_no_hostile_body_gets_a_5xx_or_writes_behind_a_refusal(board: Board, route: str) -> None:
    api, stack = board.api, board.stack
    example, fields = request_schema(route)
    poster, worker = api.new_agent(name="fuzz poster"), api.new_agent(name="fuzz worker")
    current: dict[str, Any] = {}

    def fresh() -> None:
        current["target"] = prepare(board, route, poster, worker, example)
        current["before"] = snapshot(stack)

    fresh()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(changes=mutations(fields))
    def call(changes: list[Mutation]) -> None:
        target: Target = current["target"]
        body = hostile_body(target.base, changes)
        method = route.split(" ", 1)[0]
        response = api.call(method, target.path, raw_body=body, key=target.key, query=target.query)
        shown = (route, body[:300], response.status, response.body[:500])
        assert response.status < 500, shown
        if not 200 <= response.status < 300:
            assert snapshot(stack) == current["before"], shown
            return
        for path, query in (("/tasks", "status=all"), ("/agents", ""), ("/tasks/next", "timeout=0")):
            listed = api.get(path, key=worker.key, query=query)
            assert listed.status == 200, (*shown, path, listed.body[:300])
        fresh()  # the call changed what it acted on: set it up again

    call()
