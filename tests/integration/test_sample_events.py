"""The sample events in events/: each is what AWS would deliver to its function, and gets the answer that
events/README.md documents for it.

events/README.md holds two tables that this module reads, so the documentation cannot drift from what is
tested: the events (each file, its function, what it does, the world it needs, its answer) and the worlds (what
the board holds before an event: another world, then some of the story's events played in order).

- Every function of template.yaml has exactly one file and one row, and every file and row names a function.
  Each event has the shape of what invokes its function: an API event is the REST proxy event of its
  function's route, with the authorizer's context exactly when the route has the authorizer; a stream record
  passes its function's filter; a queue message's checksum is its body's; a timer's input is the one its timer
  is started with.
- The context a keyed event carries is exactly what the authorizer answers for the key in its headers.
- Each event, invoked with its function the way `sam local invoke` does it (as it is in the file: no API
  Gateway, no authorizer), on a fresh local stack in the world it needs, gets its answer and does what its row
  says.

A world is built by playing its events, each as it is in its file, with the board's clock at the event's time
and, while an event that makes an id the story names runs (an account, a key, the registration token, the task,
the webhook, the claim's event), the random source that id is made from pinned to the id in the files. The
stack's stream and queue pollers are stopped (the tests play the stream and the queue themselves), and the
webhook's endpoint is the test's: nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook

from local.services import matches
from local.stack import AUTHORIZER_REQUEST_FIELDS, Stack, authorizer_request
from local.template import ROOT, authorizer_of, function_routes, functions, load_template, resources
from taskboard.accounts.keys import hash_key
from taskboard.tasks.timers import Bucket
from tests.support import FrozenClock

EVENTS = ROOT / "events"
README = EVENTS / "README.md"
TEMPLATE = load_template()
FUNCTIONS = functions(TEMPLATE)
ROUTES = {route.logical_id: route for route in function_routes(TEMPLATE)}
REGION = "us-east-1"

# ---- the story's ids (events/README.md, "The story") ----------------------------------------------------------

POSTER_ID = "5b7c9a52-5f0e-4f57-9a0e-2f6f4d1c8e11"
OWNER_ID = "a3d5e7f9-0b1c-4d2e-8f3a-4b5c6d7e8f90"
WORKER_ID = "ada-coder"
TASK_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
WEBHOOK_ID = "wh_3f2c1a7be0d94c5a8e6b1d2f4a7c9e01"
CLAIMED_EVENT_ID = "evt_8f14e45fceea167a5a36dedd4bea2543"
POSTER_KEY = "atb_EXAMPLE_poster_key_not_a_real_one_000000000"
SECOND_KEY = "atb_EXAMPLE_poster_second_key_not_a_real_one_00"
OWNER_KEY = "atb_EXAMPLE_ada_owner_key_not_a_real_one_000000"
WORKER_KEY = "atb_EXAMPLE_ada_coder_key_not_a_real_one_000000"
REGISTRATION_TOKEN = "atr_EXAMPLE_ada_coder_token_not_a_real_one_0000"
OPERATOR_ID = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"
OPERATOR_KEY = "atb_EXAMPLE_operator_key_not_a_real_one_0000000"
GIG_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
ORDER_ID = "9b2d3c4e-5f60-4a71-8b82-9c93a4b5c6d7"
WEBHOOK_URL = "https://93.184.215.14/agent-hooks"


def key_id(key: str) -> str:
    """A key's id, as the board derives it from the key (taskboard.accounts.keys.new_key)."""
    return "key_" + hash_key(key)[:16]


# ---- the README's tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    file: str
    function: str  # the template's logical id
    does: str
    world: str
    answer: str


@dataclass(frozen=True)
class World:
    name: str
    base: str | None
    plays: tuple[str, ...]
    endpoint_answers: int  # the webhook endpoint's status while this world's events play
    operator: bool = False  # then `make operator-key` (scripts/operator_key.py) makes the story's operator


def read_table(marker: str, columns: tuple[str, ...]) -> list[list[str]]:
    """The rows of the README table between <!-- marker --> and <!-- /marker -->, code spans unquoted."""
    text = README.read_text()
    table = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    rows = [
        [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")] for line in table.strip().split("\n")
    ]
    assert tuple(rows[0]) == columns, rows[0]
    return rows[2:]


SAMPLE_ROWS = [
    Sample(*row) for row in read_table("sample-events", ("file", "function", "what it does", "world", "answer"))
]
SAMPLES = {sample.file: sample for sample in SAMPLE_ROWS}


def read_worlds() -> dict[str, World]:
    worlds = {}
    for name, base, plays in read_table("sample-worlds", ("world", "builds on", "then plays")):
        answering = re.search(r"answering (\d{3})", plays)
        files = tuple(re.findall(r"(\w+\.json)", plays))
        status = int(answering.group(1)) if answering else 200
        worlds[name] = World(name, base or None, files, status, "make operator-key" in plays)
    return worlds


WORLDS = read_worlds()


def load(name: str) -> dict[str, Any]:
    """The event, as it is in its file (a fresh copy each time: handlers may change what they are given)."""
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


DELIVERED_RESULT = json.loads(load("deliver_task.json")["body"])["result"]  # what ada-coder delivers


# ---- who invokes each function ---------------------------------------------------------------------------------

AUTHORIZERS = {
    authorizer["FunctionArn"]["Fn::GetAtt"][0]
    for api in resources(TEMPLATE, "AWS::Serverless::Api").values()
    for authorizer in api.get("Auth", {}).get("Authorizers", {}).values()
}
TIMER_FUNCTIONS = {
    value["Fn::GetAtt"][0]
    for machine in resources(TEMPLATE, "AWS::Serverless::StateMachine").values()
    for value in machine.get("DefinitionSubstitutions", {}).values()
    if isinstance(value, dict) and "Fn::GetAtt" in value
}


def source_of(function: str) -> str:
    """What invokes the function, by template.yaml: "api", "stream", "queue", "authorizer" or "state machine"."""
    kinds = {event["Type"] for event in FUNCTIONS[function].events.values()}
    for kind, source in (("Api", "api"), ("DynamoDB", "stream"), ("SQS", "queue")):
        if kind in kinds:
            return source
    if function in AUTHORIZERS:
        return "authorizer"
    if function in TIMER_FUNCTIONS:
        return "state machine"
    raise AssertionError(f"nothing in template.yaml invokes {function}")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def time_of(event: dict[str, Any]) -> datetime:
    """When the event happens in the story: a request's time, a timer's firing, a record's or message's making."""
    if "requestContext" in event:
        return datetime.fromtimestamp(event["requestContext"]["requestTimeEpoch"] / 1000, UTC)
    if "fire_at" in event:
        return moment(event["fire_at"])
    record = event["Records"][0]
    if "dynamodb" in record:
        return datetime.fromtimestamp(record["dynamodb"]["ApproximateCreationDateTime"], UTC)
    return datetime.fromtimestamp(int(record["attributes"]["SentTimestamp"]) / 1000, UTC)


def method_arn(event: dict[str, Any]) -> str:
    """The ARN of the request's method, as API Gateway hands it to the authorizer (with the request's path)."""
    context = event["requestContext"]
    region = context["domainName"].split(".")[2]
    return (
        f"arn:aws:execute-api:{region}:{context['accountId']}:{context['apiId']}/{context['stage']}/"
        f"{event['httpMethod']}{event['path']}"
    )


PROXY_FIELDS = {*AUTHORIZER_REQUEST_FIELDS, "body", "isBase64Encoded"}


def request_for(event: dict[str, Any]) -> dict[str, Any]:
    """What API Gateway gives the REQUEST authorizer for the request of an API event (before it has run)."""
    return authorizer_request(event, method_arn(event))


# ---- answers ---------------------------------------------------------------------------------------------------


def answer_problem(sample: Sample, event: dict[str, Any], result: Any) -> str | None:
    """None when the function's result is the row's answer; else what is wrong."""
    source = source_of(sample.function)
    if source == "api":
        got: Any = result["statusCode"]
        wanted: Any = int(sample.answer)
    elif source == "authorizer":
        statements = result["policyDocument"]["Statement"]
        got = [statement["Effect"] for statement in statements if statement["Resource"] == event["methodArn"]]
        wanted = [sample.answer]
    else:
        got, wanted = result, json.loads(sample.answer)
    return None if got == wanted else f"answered {got!r}, not {wanted!r} as events/README.md says: {result}"


def body(result: dict[str, Any]) -> Any:
    return json.loads(result["body"]) if result.get("body") else None


# ---- pinning the random sources of the ids the story names ---------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """While an event runs, the `source` module (uuid, secrets) that `module` uses hands out `values` from
    `function` first, then what the real one makes."""

    module: str
    source: str
    function: str
    values: tuple[Any, ...]


class _PinnedSource:
    def __init__(self, real: Any, function: str, values: tuple[Any, ...]) -> None:
        self.real, self.function, self.left = real, function, list(values)

    def __getattr__(self, name: str) -> Any:
        return self.hand_out if name == self.function else getattr(self.real, name)

    def hand_out(self, *args: Any, **kwargs: Any) -> Any:
        return self.left.pop(0) if self.left else getattr(self.real, self.function)(*args, **kwargs)


@contextmanager
def pinned(pins: tuple[Pin, ...]) -> Iterator[None]:
    swapped = []
    for pin in pins:
        module = importlib.import_module(pin.module)
        real = getattr(module, pin.source)
        source = _PinnedSource(real, pin.function, pin.values)
        setattr(module, pin.source, source)
        swapped.append((module, pin, real, source))
    try:
        yield
    finally:
        for module, pin, real, _ in reversed(swapped):
            setattr(module, pin.source, real)
    unused = [(pin, source.left) for _, pin, _, source in swapped if source.left]
    assert not unused, f"these ids are no longer made where the test pins them: {unused}"


def account_id(value: str) -> Pin:
    return Pin("taskboard.accounts.service", "uuid", "uuid4", (uuid.UUID(value),))


def api_key(key: str) -> Pin:
    return Pin("taskboard.accounts.keys", "secrets", "token_urlsafe", (key.removeprefix("atb_"),))


def made_by_service(value: str) -> Pin:
    """The task's id, or an event's (evt_<hex>)."""
    return Pin("taskboard.tasks.service", "uuid", "uuid4", (uuid.UUID(value.removeprefix("evt_")),))


def event_id(value: str) -> Pin:
    """An event's id (evt_<hex>), made where every change's events are numbered (taskboard.tasks.writes)."""
    return Pin("taskboard.tasks.writes", "uuid", "uuid4", (uuid.UUID(value.removeprefix("evt_")),))


PINS: dict[str, tuple[Pin, ...]] = {
    "register_owner.json": (account_id(OWNER_ID), api_key(OWNER_KEY)),
    "create_registration_token.json": (
        Pin("taskboard.accounts.service", "secrets", "token_urlsafe", (REGISTRATION_TOKEN.removeprefix("atr_"),)),
    ),
    "connect_agent.json": (api_key(WORKER_KEY),),
    "create_key.json": (account_id(POSTER_ID), api_key(POSTER_KEY)),
    "create_my_key.json": (api_key(SECOND_KEY),),
    "create_webhook.json": (
        Pin("taskboard.webhooks.store", "uuid", "uuid4", (uuid.UUID(WEBHOOK_ID.removeprefix("wh_")),)),
    ),
    "create_task.json": (made_by_service(TASK_ID),),
    "claim_task.json": (event_id(CLAIMED_EVENT_ID),),
    "create_gig.json": (Pin("taskboard.gigs.catalog", "uuid", "uuid4", (uuid.UUID(GIG_ID),)),),
    "create_order.json": (Pin("taskboard.gigs.orderbook", "uuid", "uuid4", (uuid.UUID(ORDER_ID),)),),
}
OPERATOR_PINS = (account_id(OPERATOR_ID), api_key(OPERATOR_KEY))

# ---- the board -------------------------------------------------------------------------------------------------


class Endpoint:
    """The webhook's endpoint, in place of the network (taskboard.core.outbound.post): it keeps what it is sent and
    answers `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[Any, bytes, dict[str, str]]] = []

    def post(self, target: Any, sent: bytes, headers: dict[str, str], *, timeout: float = 10.0) -> Any:
        from taskboard.core.outbound import Answer

        self.received.append((target, sent, headers))
        return Answer(status=self.status, error=None, retry_after=None, body_excerpt="")


class Board:
    """The local stack as the story sees it: plays events at their time, with their pins, and builds worlds."""

    def __init__(self, stack: Stack, clock: FrozenClock, endpoint: Endpoint) -> None:
        self.stack, self.clock, self.endpoint = stack, clock, endpoint
        self.answers: dict[str, Any] = {}  # what each event played returned
        self.states: dict[str, dict[str, Any] | None] = {}  # the task's STATE item right after each event played

    def play(self, name: str, at: str | None = None) -> Any:
        """Invoke the file's function with the file as it is, the board's clock at the event's time (or `at`)."""
        event = load(name)
        self.clock.moment = moment(at) if at else time_of(event)
        with pinned(PINS.get(name, ())):
            result = self.stack.call_function(self.stack.functions[SAMPLES[name].function], event)
        self.answers[name] = result
        self.states[name] = self.item(f"TASK#{TASK_ID}", "STATE")
        return result

    def build(self, name: str) -> None:
        world = WORLDS[name]
        if world.base is not None:
            self.build(world.base)
        self.endpoint.status = world.endpoint_answers
        for step in world.plays:
            problem = answer_problem(SAMPLES[step], load(step), self.play(step))
            assert problem is None, f"building the world {name!r}: {step} {problem}"
        self.endpoint.status = 200
        if world.operator:
            with pinned(OPERATOR_PINS):
                made = self.stack.operator_key()
            assert made == (OPERATOR_KEY, OPERATOR_ID), made

    def item(self, pk: str, sk: str) -> dict[str, Any] | None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        found = dynamodb.get_item(TableName=self.stack.names["TasksTable"], Key=key, ConsistentRead=True)
        return found.get("Item")  # type: ignore[no-any-return]

    def authorize(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.stack.call_function(self.stack.functions["AuthorizerFunction"], request)  # type: ignore[no-any-return]

    def queued(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        found = sqs.receive_message(QueueUrl=self.stack.names["WebhookQueue"], MaxNumberOfMessages=10)
        return found.get("Messages", [])  # type: ignore[no-any-return]

    @staticmethod
    def task() -> Any:
        from taskboard.runtime import board

        return board().get(TASK_ID, POSTER_ID)

    @staticmethod
    def events() -> list[dict[str, Any]]:
        from taskboard.runtime import board

        return board().events(TASK_ID)

    @staticmethod
    def finished(execution_arn: str, seconds: float = 10) -> dict[str, Any]:
        """A Step Functions execution once it no longer runs (moto runs it in a thread of its own)."""
        stepfunctions = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + seconds
        while True:
            described = stepfunctions.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described  # type: ignore[no-any-return]
            time.sleep(0.1)

    @staticmethod
    def webhook() -> Any:
        from taskboard.runtime import subscriptions
        from taskboard.webhooks.store import Route

        return subscriptions().find(Route(POSTER_ID, WEBHOOK_ID))


@pytest.fixture
def board(stack: Stack, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> Board:
    from taskboard.core import outbound
    from taskboard.runtime import accounts, webhooks

    stack.stop_pollers()  # these tests play the stream and the queue themselves
    # The story's time wherever the board stamps one (`clock` is the task board's): accounts and their ledgers,
    # tokens, subscriptions. A delivery attempt keeps the real time: receivers check its signature's timestamp.
    accounts().clock = webhooks().clock = clock
    endpoint = Endpoint()
    monkeypatch.setattr(outbound, "post", endpoint.post)
    return Board(stack, clock, endpoint)


# ---- what each event does, beyond its answer (the README's "what it does") --------------------------------------


@dataclass(frozen=True)
class Then:
    check: Callable[[Board, Any], None]
    at: str | None = None  # the board's clock for the call, when it is not the event's own time


THEN: dict[str, Then] = {}


def then(name: str, at: str | None = None) -> Callable[[Callable[[Board, Any], None]], Callable[[Board, Any], None]]:
    def register(check: Callable[[Board, Any], None]) -> Callable[[Board, Any], None]:
        THEN[name] = Then(check, at)
        return check

    return register


@then("get_openapi.json")
def after_get_openapi(board: Board, result: Any) -> None:
    document = body(result)
    assert document["openapi"].startswith("3.") and "/tasks/{task_id}" in document["paths"]


@then("get_docs.json")
def after_get_docs(board: Board, result: Any) -> None:
    sent = {name.lower(): value for name, value in (result.get("headers") or {}).items()}
    sent |= {name.lower(): ", ".join(values) for name, values in (result.get("multiValueHeaders") or {}).items()}
    assert sent["content-type"].startswith("text/html")
    assert "/tasks/{task_id}" in result["body"]  # the endpoints, on the page


@then("register_owner.json")
def after_register_owner(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["account"]["id"], answer["account"]["kind"]) == (OWNER_ID, "owner")
    assert (answer["key"], answer["key_id"]) == (OWNER_KEY, key_id(OWNER_KEY))


@then("create_registration_token.json")
def after_create_registration_token(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["registration_token"], answer["agent_id"]) == (REGISTRATION_TOKEN, WORKER_ID)


@then("connect_agent.json")
def after_connect_agent(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["account"]["id"], answer["account"]["owner_id"]) == (WORKER_ID, OWNER_ID)
    assert (answer["key"], answer["key_id"]) == (WORKER_KEY, key_id(WORKER_KEY))


@then("create_key.json")
def after_create_key(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["id"], answer["key"], answer["key_id"]) == (POSTER_ID, POSTER_KEY, key_id(POSTER_KEY))


@then("register_agent.json")
def after_register_agent(board: Board, result: Any) -> None:
    answer = body(result)
    assert answer["account"]["name"] == "scraper-7" and answer["account"]["capabilities"] == ["coding", "data"]
    assert answer["account"]["id"] not in (POSTER_ID, OWNER_ID, WORKER_ID)
    assert answer["key"] not in (POSTER_KEY, SECOND_KEY, OWNER_KEY, WORKER_KEY)


@then("get_me.json")
def after_get_me(board: Board, result: Any) -> None:
    me = body(result)
    assert (me["id"], me["owner_id"], me["key_count"]) == (WORKER_ID, OWNER_ID, 1)


@then("update_me.json")
def after_update_me(board: Board, result: Any) -> None:
    from taskboard.runtime import accounts

    assert body(result)["status"] == "busy"
    assert accounts().agent(WORKER_ID).status == "busy"  # what everyone sees in the directory


@then("create_my_key.json")
def after_create_my_key(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["key"], answer["key_id"]) == (SECOND_KEY, key_id(SECOND_KEY))


@then("list_my_keys.json")
def after_list_my_keys(board: Board, result: Any) -> None:
    assert [key["key_id"] for key in body(result)["keys"]] == [key_id(POSTER_KEY), key_id(SECOND_KEY)]


@then("revoke_my_key.json")
def after_revoke_my_key(board: Board, result: Any) -> None:
    def authorize(key: str) -> dict[str, Any]:
        return board.authorize({"type": "REQUEST", "methodArn": "arn:method", "headers": {"x-api-key": key}})

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(SECOND_KEY)
    assert authorize(POSTER_KEY)["principalId"] == POSTER_ID


@then("authorizer.json")
def after_authorizer(board: Board, result: Any) -> None:
    handed_on = {"principalId": result["principalId"], **result["context"]}
    assert handed_on == load("get_task.json")["requestContext"]["authorizer"]
    assert result["principalId"] == POSTER_ID


@then("create_webhook.json")
def after_create_webhook(board: Board, result: Any) -> None:
    hook = body(result)
    assert (hook["id"], hook["url"], hook["status"]) == (WEBHOOK_ID, WEBHOOK_URL, "active")
    assert hook["secret"].startswith("whsec_")


@then("list_webhooks.json")
def after_list_webhooks(board: Board, result: Any) -> None:
    assert [hook["id"] for hook in body(result)["webhooks"]] == [WEBHOOK_ID]


@then("get_webhook.json")
def after_get_webhook(board: Board, result: Any) -> None:
    hook = body(result)
    assert (hook["id"], hook["status"], hook["events"]) == (
        WEBHOOK_ID,
        "active",
        ["task.claimed", "task.delivered", "task.completed"],
    )


@then("rotate_webhook_secret.json")
def after_rotate_webhook_secret(board: Board, result: Any) -> None:
    rotated, first = body(result), body(board.answers["create_webhook.json"])["secret"]
    assert rotated["id"] == WEBHOOK_ID and rotated["secret"] != first
    assert board.webhook().live_secrets(board.clock()) == [rotated["secret"], first]  # both sign for 24 h


@then("test_webhook.json")
def after_test_webhook(board: Board, result: Any) -> None:
    answer = body(result)
    assert answer["status"] == "queued"
    (message,) = board.queued()
    queued = json.loads(message["Body"])
    assert (queued["webhook_id"], queued["event"]["type"], queued["event"]["id"]) == (
        WEBHOOK_ID,
        "webhook.test",
        answer["event_id"],
    )


@then("create_task.json")
def after_create_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["id"], task["poster_id"], task["status"]) == (TASK_ID, POSTER_ID, "open")
    assert [event["type"] for event in board.events()] == ["task.created"]


@then("list_tasks.json")
def after_list_tasks(board: Board, result: Any) -> None:
    (task,) = body(result)["tasks"]
    assert (task["id"], task["status"]) == (TASK_ID, "open")


@then("next_task.json")
def after_next_task(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["task"]["id"], answer["retry"]) == (TASK_ID, False)
    assert board.task().status == "open"  # found, not claimed


@then("claim_next_task.json")
def after_claim_next_task(board: Board, result: Any) -> None:
    task = body(result)["task"]
    assert (task["id"], task["status"], task["claimed_by"]) == (TASK_ID, "claimed", WORKER_ID)


@then("cancel_task.json")
def after_cancel_task(board: Board, result: Any) -> None:
    assert body(result)["status"] == "cancelled"
    assert board.events()[-1]["type"] == "task.cancelled"


@then("claim_task.json")
def after_claim_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["status"], task["claimed_by"], task["attempts"]) == ("claimed", WORKER_ID, 1)
    assert task["expires_at"] == "2026-11-22T12:35:00.000000Z"
    assert Bucket.named(load("fire_timers.json")["bucket"]).iso == "2026-11-22T12:35:00Z"  # the deadline's bucket
    assert board.events()[-1]["id"] == CLAIMED_EVENT_ID


# The executions it starts fire at once (moto waits on the real clock, and 12:35 on 22 November 2026 is past): the
# board's clock is at the claim's deadline, so the bucket's firing lets the claim lapse, as it would then. The
# bucket is past when the record is read, so a late execution reads it again: one of the two applies the expiry,
# the other finds nothing left to do (exactly once in effect).
@then("on_task_change.json", at="2026-11-22T12:35:00Z")
def after_on_task_change(board: Board, result: Any) -> None:
    record = load("on_task_change.json")["Records"][0]["dynamodb"]
    assert record["OldImage"] == board.states["create_task.json"]  # the task's STATE item before the claim
    assert record["NewImage"] == board.states["claim_task.json"]  # and after it
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    machine = board.stack.names["DueTimersStateMachine"]
    executions = stepfunctions.list_executions(stateMachineArn=machine)["executions"]
    names = sorted(execution["name"] for execution in executions)
    assert names[0] == "due-20261122T123500Z" and [name[:24] for name in names[1:]] == ["due-20261122T123500Z-at-"]
    outcomes: Counter[str] = Counter()
    for execution in executions:
        described = board.finished(execution["executionArn"])
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["input"])["bucket"] == load("fire_timers.json")["bucket"]
        outcomes.update(json.loads(described["output"])["outcomes"])
    assert outcomes - Counter({"noop": 2}) == Counter({"open": 1})


@then("on_task_event.json")
def after_on_task_event(board: Board, result: Any) -> None:
    record = load("on_task_event.json")["Records"][0]["dynamodb"]
    assert record["NewImage"] == board.item(f"TASK#{TASK_ID}", "EVENT#0000000002")  # the claim's event item
    (message,) = board.queued()
    assert message["Body"] == load("deliver_webhook.json")["Records"][0]["body"]


@then("deliver_webhook.json")
def after_deliver_webhook(board: Board, result: Any) -> None:
    ((target, sent, headers),) = board.endpoint.received
    assert target.url == WEBHOOK_URL
    event = Webhook(board.webhook().secret).verify(sent, headers)  # signed with the webhook's secret
    assert (event["id"], event["type"], event["data"]["task"]["id"]) == (CLAIMED_EVENT_ID, "task.claimed", TASK_ID)


@then("list_webhook_deliveries.json")
def after_list_webhook_deliveries(board: Board, result: Any) -> None:
    (delivery,) = body(result)["deliveries"]
    assert (delivery["event_id"], delivery["event_type"], delivery["outcome"], delivery["status_code"]) == (
        CLAIMED_EVENT_ID,
        "task.claimed",
        "delivered",
        200,
    )


@then("heartbeat_task.json")
def after_heartbeat_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["status"], task["expires_at"]) == ("claimed", "2026-11-22T12:45:00.000000Z")


@then("release_task.json")
def after_release_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["status"], task["claimed_by"], task["attempts"]) == ("open", None, 1)
    assert board.events()[-1]["type"] == "task.released"


@then("fire_timers.json")
def after_fire_timers(board: Board, result: Any) -> None:
    assert board.task().status == "open"
    last = board.events()[-1]
    assert (last["type"], last["data"]["cause"]) == ("task.expired", "timeout")


@then("deliver_task.json")
def after_deliver_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["status"], task["auto_complete_at"]) == ("delivered", "2026-11-23T12:20:00.000000Z")
    assert task["result"] == DELIVERED_RESULT


@then("list_events.json")
def after_list_events(board: Board, result: Any) -> None:
    events = body(result)["events"]
    assert [(event["type"], event["data"]["task"]["id"]) for event in events] == [
        ("task.claimed", TASK_ID),
        ("task.delivered", TASK_ID),
    ]
    assert events[0]["id"] == CLAIMED_EVENT_ID


@then("get_result.json")
def after_get_result(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["status"], answer["result"], answer["retry"]) == ("delivered", DELIVERED_RESULT, False)


@then("get_task.json")
def after_get_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["id"], task["status"], task["result"]) == (TASK_ID, "delivered", DELIVERED_RESULT)


@then("reject_task.json")
def after_reject_task(board: Board, result: Any) -> None:
    task = body(result)
    reason = json.loads(load("reject_task.json")["body"])["reason"]
    assert (task["status"], task["last_rejection_reason"], task["result"]) == ("open", reason, None)


@then("complete_task.json")
def after_complete_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["status"], task["completed_at"]) == ("completed", "2026-11-22T12:30:00.000000Z")
    last = board.events()[-1]
    assert (last["type"], last["data"]["cause"]) == ("task.completed", "poster")


@then("review_task.json")
def after_review_task(board: Board, result: Any) -> None:
    answer = body(result)
    assert (answer["review"]["rating"], answer["review"]["tip"], answer["review"]["worker_id"]) == (5, 5, WORKER_ID)
    assert (answer["worker"]["rating_avg"], answer["worker"]["completed"]) == (5.0, 1)


@then("list_reviews.json")
def after_list_reviews(board: Board, result: Any) -> None:
    (review,) = body(result)["reviews"]
    assert (review["task_id"], review["poster_id"], review["rating"]) == (TASK_ID, POSTER_ID, 5)


@then("list_categories.json")
def after_list_categories(board: Board, result: Any) -> None:
    slugs = [category["slug"] for category in body(result)["categories"]]
    assert slugs[:2] == ["coding", "writing"] and len(slugs) == len(set(slugs))


@then("get_agent.json")
def after_get_agent(board: Board, result: Any) -> None:
    agent = body(result)
    assert (agent["id"], agent["owner_id"]) == (WORKER_ID, OWNER_ID)
    assert (agent["completed"], agent["rating_avg"], agent["earned"]) == (1, 5.0, 5)
    assert "email" not in agent  # a public profile


@then("list_agents.json")
def after_list_agents(board: Board, result: Any) -> None:
    assert [agent["id"] for agent in body(result)["agents"]] == [WORKER_ID]


@then("get_wallet.json")
def after_get_wallet(board: Board, result: Any) -> None:
    wallet = body(result)
    assert (wallet["account_id"], wallet["balance"], wallet["escrowed"]) == (WORKER_ID, 105, 0)


@then("list_ledger.json")
def after_list_ledger(board: Board, result: Any) -> None:
    entries = body(result)["entries"]
    assert [(entry["type"], entry["amount"]) for entry in entries] == [("tip", 5), ("grant", 100)]


@then("enable_webhook.json")
def after_enable_webhook(board: Board, result: Any) -> None:
    from taskboard.runtime import subscriptions

    hook = body(result)
    assert (hook["status"], hook["disabled_reason"]) == ("active", None)
    log, _ = subscriptions().attempts(WEBHOOK_ID, 10, None)
    assert [(attempt.status_code, attempt.outcome) for attempt in log] == [(410, "disabled")]  # why it was off


@then("delete_webhook.json")
def after_delete_webhook(board: Board, result: Any) -> None:
    assert board.webhook() is None


@then("revise_task.json")
def after_revise_task(board: Board, result: Any) -> None:
    task = body(result)
    shown = (task["status"], task["claimed_by"], task["attempts"], task["revisions_used"])
    assert shown == ("claimed", WORKER_ID, 1, 1)
    assert task["expires_at"] == "2026-11-22T12:55:00.000000Z"
    assert board.events()[-1]["type"] == "task.revision_requested"


@then("dispute_task.json")
def after_dispute_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["status"], task["dispute"]["opened_by"]) == ("disputed", POSTER_ID)
    state = board.item(f"TASK#{TASK_ID}", "STATE")
    assert state is not None and "due_pk" not in state and state["avail_pk"]["S"] == "DISPUTES"


@then("resolve_task.json")
def after_resolve_task(board: Board, result: Any) -> None:
    task = body(result)
    assert (task["status"], task["resolution"]["outcome"], task["resolution"]["resolved_by"]) == (
        "completed",
        "pay",
        OPERATOR_ID,
    )
    assert task["result"] == DELIVERED_RESULT  # the operator sees what it judged
    assert [(e["type"], e["data"]["cause"]) for e in board.events()][-2:] == [
        ("task.disputed", "poster"),
        ("task.resolved", "operator"),
    ]


@then("create_gig.json")
def after_create_gig(board: Board, result: Any) -> None:
    gig = body(result)
    assert (gig["id"], gig["seller_id"], gig["category"], gig["price"]) == (GIG_ID, WORKER_ID, "cat_data", 20)
    assert (gig["status"], gig["orders"], gig["auto_approve_seconds"]) == ("active", 0, 72 * 3600)
    assert gig["seller"]["record"]["completed"] == 1  # ada-coder's record: the morning's task


@then("list_gigs.json")
def after_list_gigs(board: Board, result: Any) -> None:
    (gig,) = body(result)["gigs"]
    assert (gig["id"], gig["seller"]["name"], gig["seller"]["record"]["rating_avg"]) == (GIG_ID, "Ada's coder", 5.0)


@then("get_gig.json")
def after_get_gig(board: Board, result: Any) -> None:
    gig = body(result)
    assert (gig["id"], gig["revisions_included"], gig["includes"]) == (GIG_ID, 1, ["up to 1,000 rows", "one revision"])


@then("update_gig.json")
def after_update_gig(board: Board, result: Any) -> None:
    gig = body(result)
    assert (gig["price"], gig["version"], gig["updated_at"]) == (25, 2, "2026-11-22T13:08:00.000000Z")


def wallet_of(account: str) -> tuple[int, int]:
    from taskboard.runtime import ledgers

    held = ledgers().wallet(account)
    return held.balance, held.escrowed


def order_events() -> list[tuple[str, str | None]]:
    from taskboard.runtime import board as task_board

    return [(event["type"], event["data"]["cause"]) for event in task_board().events(ORDER_ID)]


@then("create_order.json")
def after_create_order(board: Board, result: Any) -> None:
    order = body(result)
    assert (order["id"], order["status"], order["price"], order["seller_id"]) == (ORDER_ID, "pending", 20, WORKER_ID)
    assert order["deliver_by"] == "2026-11-24T13:10:00.000000Z"  # two days
    assert wallet_of(POSTER_ID)[1] == 20  # escrowed
    assert order_events() == [("order.created", "buyer")]


@then("list_orders.json")
def after_list_orders(board: Board, result: Any) -> None:
    (order,) = body(result)["orders"]
    assert (order["id"], order["status"], order["my_role"]) == (ORDER_ID, "pending", "seller")


@then("cancel_order.json")
def after_cancel_order(board: Board, result: Any) -> None:
    order = body(result)
    assert (order["status"], order["end_reason"]) == ("cancelled", "Found the data elsewhere.")
    assert wallet_of(POSTER_ID)[1] == 0


@then("decline_order.json")
def after_decline_order(board: Board, result: Any) -> None:
    order = body(result)
    assert (order["status"], order["end_reason"]) == ("cancelled", "That site forbids scraping.")
    assert wallet_of(POSTER_ID)[1] == 0
    assert order_events()[-1] == ("order.declined", "seller")


@then("start_order.json")
def after_start_order(board: Board, result: Any) -> None:
    order = body(result)
    assert (order["status"], order["started_at"]) == ("in_progress", "2026-11-22T13:15:00.000000Z")


@then("deliver_order.json")
def after_deliver_order(board: Board, result: Any) -> None:
    order = body(result)
    assert (order["status"], order["auto_approve_at"]) == ("delivered", "2026-11-25T14:00:00.000000Z")
    assert order["delivery"]["result"]["rows"][0]["address"] == "1 Main St"
    state = board.item(f"TASK#{ORDER_ID}", "STATE")
    assert state is not None and state["due_pk"]["S"].startswith("DUE#2026-11-25T14:00:0")  # its auto-approve


@then("get_order.json")
def after_get_order(board: Board, result: Any) -> None:
    order = body(result)
    assert (order["status"], order["my_role"], order["delivery"]["message"]) == (
        "delivered",
        "buyer",
        "Here are the 2 listings.",
    )
    assert order["requirements"] == "All listings of the page, with their prices."


@then("request_revision.json")
def after_request_revision(board: Board, result: Any) -> None:
    order = body(result)
    assert (order["status"], order["revisions_used"], order["revisions_remaining"]) == ("in_progress", 1, 0)
    assert order["revision_feedback"] == "Add each listing's bedrooms."


@then("approve_order.json")
def after_approve_order(board: Board, result: Any) -> None:
    answer = body(result)
    assert answer["order"]["status"] == "completed"
    assert answer["payment"] == {"total": 20, "platform_fee": 2, "seller_received": 18}
    assert wallet_of(POSTER_ID)[1] == 0
    assert order_events()[-1] == ("order.completed", "buyer")


@then("review_order.json")
def after_review_order(board: Board, result: Any) -> None:
    from taskboard.runtime import gigs

    answer = body(result)
    assert (answer["review"]["task_id"], answer["review"]["rating"]) == (ORDER_ID, 4)
    assert (answer["worker"]["rating_count"], answer["worker"]["completed"]) == (2, 2)  # the task and the order
    gig = gigs().get(GIG_ID)
    assert (gig.rating_avg, gig.rating_count, gig.orders) == (4.0, 1, 1)


@then("dispute_order.json")
def after_dispute_order(board: Board, result: Any) -> None:
    order = body(result)
    assert order["status"] == "disputed" and order["dispute"]["opened_by"] == POSTER_ID
    state = board.item(f"TASK#{ORDER_ID}", "STATE")
    assert state is not None and "due_pk" not in state  # no auto-approve while disputed


@then("list_disputes.json")
def after_list_disputes(board: Board, result: Any) -> None:
    (dispute,) = body(result)["disputes"]
    order = dispute["order"]
    assert (dispute["kind"], dispute["task"]) == ("order", None)
    assert (order["id"], order["my_role"], order["dispute"]["reason"]) == (
        ORDER_ID,
        "operator",
        "Half of the listings are missing.",
    )


@then("resolve_order.json")
def after_resolve_order(board: Board, result: Any) -> None:
    order = body(result)
    assert order["status"] == "completed"
    assert (order["resolution"]["buyer_amount"], order["resolution"]["seller_amount"]) == (10, 10)
    assert order_events()[-1] == ("order.resolved", "operator")
    assert wallet_of(POSTER_ID)[1] == 0


# ---- the tests ---------------------------------------------------------------------------------------------------


def test_every_function_of_the_template_has_one_event_and_every_event_names_one() -> None:
    files = Counter(path.name for path in EVENTS.glob("*.json"))
    rows = Counter(sample.file for sample in SAMPLE_ROWS)
    assert files - rows == Counter(), "event files without a row in events/README.md"
    assert rows - files == Counter(), "rows of events/README.md without a file (or with two)"
    named = Counter(sample.function for sample in SAMPLE_ROWS)
    assert set(FUNCTIONS) - set(named) == set(), "functions of template.yaml without an event"
    assert set(named) - set(FUNCTIONS) == set(), "events naming no function of template.yaml"
    assert [name for name, count in named.items() if count > 1] == [], "functions with two events"
    assert set(THEN) == set(SAMPLES), "every event has its check here, and every check an event"


def test_every_world_is_the_story_so_far() -> None:
    for sample in SAMPLE_ROWS:
        assert sample.world in WORLDS, f"{sample.file}: no world {sample.world!r} in events/README.md"
    for world in WORLDS.values():
        assert world.base is None or world.base in WORLDS, world
        assert all(step in SAMPLES for step in world.plays), world
        assert world.base is not None or not world.plays, world


def check_api_event(sample: Sample, event: dict[str, Any]) -> None:
    route = ROUTES[sample.function]
    assert set(event) == PROXY_FIELDS
    assert (event["httpMethod"], event["resource"]) == (route.method, route.path), "not its function's route"
    context = event["requestContext"]
    assert (context["httpMethod"], context["resourcePath"]) == (route.method, route.path)
    assert context["path"] == f"/{context['stage']}{event['path']}"
    assert Stack().match(route.method, event["path"]) == (route, event["pathParameters"] or {})
    sent_at = datetime.strptime(context["requestTime"], "%d/%b/%Y:%H:%M:%S %z")
    assert sent_at.timestamp() * 1000 == context["requestTimeEpoch"]
    assert {name: [value] for name, value in event["headers"].items()} == event["multiValueHeaders"]
    single, multi = event["queryStringParameters"], event["multiValueQueryStringParameters"]
    assert single == ({name: values[-1] for name, values in multi.items()} if multi is not None else None)
    assert event["isBase64Encoded"] is False and event["stageVariables"] is None
    if event["body"] is not None:
        assert isinstance(json.loads(event["body"]), dict) and event["headers"]["Content-Type"] == "application/json"
    if authorizer_of(TEMPLATE, route) is None:
        assert "authorizer" not in context, "a route with `Authorizer: NONE` is called without the authorizer"
    else:
        handed_on = context["authorizer"]
        assert set(handed_on) in ({"principalId", "account_id", "role", "key_id", "owner_id"}, {"principalId", "role"})
        assert all(isinstance(value, str) for value in handed_on.values()), "API Gateway passes strings on"


def check_authorizer_input(sample: Sample, event: dict[str, Any]) -> None:
    assert set(event) == {"type", "methodArn", *AUTHORIZER_REQUEST_FIELDS} and event["type"] == "REQUEST"
    assert event["methodArn"] == method_arn(event)
    assert "authorizer" not in event["requestContext"]
    route = next(r for r in ROUTES.values() if (r.method, r.path) == (event["httpMethod"], event["resource"]))
    assert authorizer_of(TEMPLATE, route) == sample.function


def check_stream_records(sample: Sample, event: dict[str, Any]) -> None:
    (source,) = [e["Properties"] for e in FUNCTIONS[sample.function].events.values() if e["Type"] == "DynamoDB"]
    patterns = [json.loads(f["Pattern"]) for f in source.get("FilterCriteria", {}).get("Filters", [])]
    table = source["Stream"]["Fn::GetAtt"][0]
    view = resources(TEMPLATE, "AWS::DynamoDB::Table")[table]["StreamSpecification"]["StreamViewType"]
    for record in event["Records"]:
        assert record["eventSource"] == "aws:dynamodb" and ":table/" in record["eventSourceARN"]
        assert any(matches(pattern, record) for pattern in patterns), "the template's filter drops this record"
        assert record["dynamodb"]["StreamViewType"] == view
        assert ("OldImage" in record["dynamodb"]) == (record["eventName"] != "INSERT")


def check_queue_messages(sample: Sample, event: dict[str, Any]) -> None:
    for record in event["Records"]:
        assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].startswith("arn:aws:sqs:")
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # SQS's checksum of the body


def check_timer_input(sample: Sample, event: dict[str, Any]) -> None:
    # the input OnTaskChange starts a bucket's execution with
    assert event == Bucket.named(event["bucket"]).execution()[1]


SHAPES = {
    "api": check_api_event,
    "authorizer": check_authorizer_input,
    "stream": check_stream_records,
    "queue": check_queue_messages,
    "state machine": check_timer_input,
}


@pytest.mark.parametrize("sample", SAMPLE_ROWS, ids=[sample.file for sample in SAMPLE_ROWS])
def test_an_event_is_what_invokes_its_function(sample: Sample) -> None:
    assert sample.function in FUNCTIONS, f"{sample.file}: template.yaml has no {sample.function}"
    SHAPES[source_of(sample.function)](sample, load(sample.file))


def test_a_keyed_event_carries_what_the_authorizer_answers_for_its_key(board: Board) -> None:
    # Given the story's accounts and their keys
    board.build("accounts")
    wrong = {}
    for sample in SAMPLE_ROWS:
        route = ROUTES.get(sample.function)
        if route is None or authorizer_of(TEMPLATE, route) is None:
            continue  # the sign-ups, the docs and the functions that are no endpoint: no authorizer runs
        event = load(sample.file)
        # When the authorizer is given the event's request (its x-api-key, or none for an anonymous read)
        policy = board.authorize(request_for(event))
        answered = {"principalId": policy["principalId"]} | {k: str(v) for k, v in policy["context"].items()}
        if event["requestContext"]["authorizer"] != answered:
            wrong[sample.file] = answered
    # Then each event carries what API Gateway would hand on: the principal and the context, as strings
    assert wrong == {}, "events whose context is not what the authorizer gives their key"
    assert load("authorizer.json") == request_for(load("get_task.json")), "the authorizer's input for get_task.json"


@pytest.mark.parametrize("sample", SAMPLE_ROWS, ids=[sample.file for sample in SAMPLE_ROWS])
def test_an_event_gets_its_answer_and_does_what_its_row_says(board: Board, sample: Sample) -> None:
    assert sample.function in FUNCTIONS, f"{sample.file}: template.yaml has no {sample.function}"
    # Given the board in the world the event needs
    board.build(sample.world)
    # When its function is invoked with the event as it is in the file
    then_ = THEN[sample.file]
    result = board.play(sample.file, at=then_.at)
    # Then it gets the answer events/README.md gives, and does what the row says
    problem = answer_problem(sample, load(sample.file), result)
    assert problem is None, problem
    then_.check(board, result)
