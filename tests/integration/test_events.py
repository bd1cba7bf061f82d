"""events/: one sample API Gateway REST proxy event per function, for `sam local invoke ID -e events/DIR.json`.

Each event is checked against template.yaml (its function, route and method) and handed to the function's real
handler on a fresh stack. The events carry a placeholder key nobody was issued. Handed to a handler as it is (what
`sam local invoke` does: no authorizer runs, so none names a caller), a key-only endpoint answers 401 in the one
error shape; with an issued key, the API's authorizer runs first, as API Gateway would run it. What matters is
that every handler accepts the event and answers without a 5xx. (events/authorizer.json is the authorizer's own
REQUEST event; tests/unit/test_authorizer.py covers it.)"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from local.stack import LambdaContext, Stack
from local.template import ROOT, FunctionRoute, function_routes, functions, load_template
from tests.support import Api

EVENTS = ROOT / "events"
ROUTES = function_routes(load_template())
PLACEHOLDER_KEY = re.compile(r"^atb_[A-Za-z0-9_-]{43}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# What API Gateway puts in a REST API (payload format 1.0) proxy event, and what sam local invoke passes on.
EVENT_FIELDS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}
SIGN_UPS = {"create_key", "register_agent", "register_owner", "connect_agent"}
# As sent, without an authorizer: the sign-ups need no key (the placeholder registration token is no token), the
# endpoints open to anonymous callers answer as to one, every other call is refused before anything is done.
AS_SENT = {
    "create_key": (201, None),
    "register_agent": (201, None),
    "register_owner": (201, None),
    "connect_agent": (401, "invalid_registration_token"),
    "list_tasks": (200, None),
    "get_task": (404, "task_not_found"),
    "list_agents": (200, None),
    "get_agent": (404, "agent_not_found"),
    "list_reviews": (404, "agent_not_found"),
}
AS_SENT_OTHERWISE = (401, "unauthorized")
# With the placeholder swapped for an issued key: the bodies and queries are valid requests, and the
# placeholder task id names no task.
WITH_ISSUED_KEY = {
    **{name: AS_SENT[name] for name in SIGN_UPS | {"list_agents", "get_agent", "list_reviews"}},
    "create_registration_token": (403, "owners_only"),
    "get_me": (200, None),
    "get_wallet": (200, None),
    "list_ledger": (200, None),
    "update_me": (200, None),
    "create_my_key": (201, None),
    "list_my_keys": (200, None),
    "revoke_my_key": (404, "key_not_found"),
    "create_task": (201, None),
    "list_tasks": (200, None),
    "next_task": (200, None),
    "claim_next_task": (200, None),
    "create_webhook": (201, None),
    "list_webhooks": (200, None),
    "list_events": (200, None),
}
WITH_ISSUED_KEY_OTHERWISE = (404, "task_not_found")
WEBHOOK_ID = re.compile(r"^wh_[0-9a-f]{32}$")


def event_file(route: FunctionRoute) -> Path:
    return EVENTS / f"{route.code_uri.name}.json"


def load_event(route: FunctionRoute) -> dict[str, Any]:
    return json.loads(event_file(route).read_text())


def by_function(test: Any) -> Any:
    return pytest.mark.parametrize("route", ROUTES, ids=[route.code_uri.name for route in ROUTES])(test)


def test_every_function_has_exactly_one_event_and_every_event_a_function() -> None:
    assert len(ROUTES) == len({route.logical_id for route in ROUTES}), "one route per function"
    function_dirs = sorted(spec.code_uri.name for spec in functions(load_template()).values())
    assert len(function_dirs) == len(set(function_dirs))
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == function_dirs
    assert sorted(path.name for path in EVENTS.iterdir()) == [f"{name}.json" for name in function_dirs]


@by_function
def test_event_is_a_rest_proxy_event_for_the_templates_route(route: FunctionRoute) -> None:
    event = load_event(route)
    assert set(event) == EVENT_FIELDS
    assert event["resource"] == route.path
    assert event["httpMethod"] == route.method
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None

    # The concrete path is one the template's route matches, with pathParameters filled in from it
    assert event["path"].startswith("/") and "{" not in event["path"]
    assert Stack().match(route.method, event["path"]) == (route, event["pathParameters"] or {})
    if "{task_id}" in route.path:
        assert UUID.match(event["pathParameters"]["task_id"]), event["pathParameters"]
    elif "{webhook_id}" in route.path:
        assert WEBHOOK_ID.match(event["pathParameters"]["webhook_id"]), event["pathParameters"]
    elif "{agent_id}" in route.path or "{key_id}" in route.path:
        assert set(event["pathParameters"]) == set(re.findall(r"{(\w+)}", route.path)), event["pathParameters"]
    else:
        assert event["pathParameters"] is None

    context = event["requestContext"]
    assert context["resourcePath"] == route.path and context["httpMethod"] == route.method
    assert isinstance(context["requestId"], str) and context["requestId"]
    assert isinstance(context["stage"], str) and context["stage"]
    assert context["path"] == f"/{context['stage']}{event['path']}"
    assert isinstance(context["identity"]["sourceIp"], str) and context["identity"]["sourceIp"]

    # Headers and query strings come in both the single- and the multi-value form, consistently
    headers = event["headers"]
    assert {name: [value] for name, value in headers.items()} == event["multiValueHeaders"]
    single, multi = event["queryStringParameters"], event["multiValueQueryStringParameters"]
    assert (single is None) == (multi is None)
    if single is not None:
        assert {name: values[-1] for name, values in multi.items()} == single

    # The body is JSON text (or null), as API Gateway passes it on
    if event["body"] is None:
        assert "Content-Type" not in headers
    else:
        assert isinstance(event["body"], str)
        assert isinstance(json.loads(event["body"]), dict)
        assert headers["Content-Type"] == "application/json"

    # The key is a placeholder shaped like a real one (the sign-ups need none)
    key = headers.get("x-api-key")
    if route.code_uri.name in SIGN_UPS:
        assert key is None
    else:
        assert key is not None and PLACEHOLDER_KEY.match(key), key


def invoke(stack: Stack, route: FunctionRoute, event: dict[str, Any]) -> tuple[int, Any]:
    """The function's handler on `event`: a proxy response with an int status under 500 and a JSON body,
    in the one error shape when it is an error."""
    response = stack.module(route).handler(copy.deepcopy(event), LambdaContext(route))
    assert isinstance(response, dict)
    status = response["statusCode"]
    assert isinstance(status, int) and not isinstance(status, bool)
    assert status < 500, response
    assert isinstance(response["body"], str) and response.get("isBase64Encoded", False) is False
    body = json.loads(response["body"])
    if status >= 400:
        assert isinstance(body, dict), body
        assert isinstance(body.get("error"), str) and body["error"], body
        assert isinstance(body.get("code"), str) and body["code"], body
    return status, body


@by_function
def test_handler_accepts_the_event_as_it_is(stack: Stack, route: FunctionRoute) -> None:
    event = load_event(route)
    status, body = invoke(stack, route, event)
    expected_status, expected_code = AS_SENT.get(route.code_uri.name, AS_SENT_OTHERWISE)
    assert status == expected_status, body
    if expected_code is not None:
        assert body["code"] == expected_code and body["request_id"] == event["requestContext"]["requestId"], body
    if route.code_uri.name == "create_key":
        assert PLACEHOLDER_KEY.match(body["key"]) and UUID.match(body["id"]), body
    if route.code_uri.name in ("register_agent", "register_owner"):
        assert PLACEHOLDER_KEY.match(body["key"]) and UUID.match(body["account"]["id"]), body


@by_function
def test_event_is_a_valid_request_once_the_key_is_real(stack: Stack, api: Api, route: FunctionRoute) -> None:
    event = load_event(route)
    if "x-api-key" in event["headers"]:
        key = api.new_agent(name="sam local invoke").key
        event["headers"]["x-api-key"] = key
        event["multiValueHeaders"]["x-api-key"] = [key]
    assert stack._authorize(route, event) is None  # the authorizer lets the key through and names its caller
    status, body = invoke(stack, route, event)
    otherwise = (404, "webhook_not_found") if "{webhook_id}" in route.path else WITH_ISSUED_KEY_OTHERWISE
    expected_status, expected_code = WITH_ISSUED_KEY.get(route.code_uri.name, otherwise)
    assert status == expected_status, body
    if expected_code is not None:
        assert body["code"] == expected_code, body
