"""Unknown query parameters are refused like unknown body fields: a misspelt filter never silently does nothing."""

from __future__ import annotations

import re

import boto3
import pytest

from local.stack import Stack
from local.template import FunctionRoute, function_routes, load_template
from tests.support import Agent, Api

ROUTES = function_routes(load_template())


def items(stack: Stack) -> int:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    return sum(dynamodb.scan(TableName=stack.names[name])["Count"] for name in ("TasksTable", "IdempotencyTable"))


@pytest.mark.parametrize(
    ("path", "query", "unknown"),
    [
        ("/tasks", "minReward=5", "minReward"),  # a filter of another board's API
        ("/tasks", "status=open&offset=20", "offset"),  # an offset pager would re-read page 1 forever
        ("/tasks/next", "capability=data&timeout=0", "capability"),
        ("/agents", "role=worker", "role"),
    ],
)
def test_an_unknown_query_parameter_gets_400_naming_it_and_what_is_taken(
    api: Api, poster: Agent, path: str, query: str, unknown: str
) -> None:
    response = api.get(path, query=query, key=poster.key)

    assert response.status == 400, response.body
    body = response.json()
    assert body["code"] == "invalid_request" and unknown in body["error"]
    assert body["details"] == [
        {"location": f"query.{unknown}", "message": body["details"][0]["message"], "type": "extra_forbidden"}
    ]
    assert "limit" in body["details"][0]["message"] or "timeout" in body["details"][0]["message"]


def test_known_query_parameters_still_work(api: Api, poster: Agent) -> None:
    api.post_task(poster, tags=["data"])
    listed = api.get("/tasks", query="status=open&skills=data&limit=5", key=poster.key)
    assert listed.status == 200 and len(listed.json()["tasks"]) == 1


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_every_endpoint_refuses_an_unknown_query_parameter_before_writing_anything(
    stack: Stack, api: Api, poster: Agent, route: FunctionRoute
) -> None:
    # Given any endpoint, called by a valid key holder (path parameters need not exist: nothing is read)
    path = re.sub(r"\{\w+\}", "some-id", route.path)
    before = items(stack)

    # When the call carries a parameter the endpoint does not take
    response = api.call(route.method, path, key=poster.key, query="surprise=1", json_body={})

    # Then it is refused with 400 naming it, and nothing was written (no task, no idempotency record)
    assert response.status == 400, response.body
    assert response.json()["code"] == "invalid_request" and "surprise" in response.json()["error"]
    assert items(stack) == before


def test_a_body_sent_to_an_endpoint_that_takes_none_is_refused_not_ignored(
    stack: Stack, api: Api, poster: Agent
) -> None:
    # Given an open task, and a cancel (which takes no body) sent with a field the client thinks is read
    task = api.post_task(poster)
    before = items(stack)
    refused = api.post(f"/tasks/{task['id']}/cancel", {"reason": "changed my mind"}, key=poster.key)

    # Then it is refused, naming the field, and nothing changed; an empty object is no body at all
    assert refused.status == 400 and refused.json()["code"] == "invalid_request", refused.body
    assert "takes no body" in refused.json()["error"] and "reason" in refused.json()["error"]
    assert items(stack) == before
    assert api.post(f"/tasks/{task['id']}/cancel", {}, key=poster.key).json()["status"] == "cancelled"
