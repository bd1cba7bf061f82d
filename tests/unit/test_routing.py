"""One function's route (taskboard.http.routing): the path, query and body read as declared, every error located,
the answer serialized as the declared model, served without Powertools' event handler."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict

from local.template import ROOT
from taskboard.http.routing import Body, NoRoute, Query, RequestInvalid, Response, ResponseInvalid, Router


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    size: int = 1


class Shown(BaseModel):
    id: str
    name: str


router = Router()


@router.get("/things/<thing_id>")
def get_thing(
    thing_id: str,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
    flag: Annotated[bool | None, Query()] = None,
) -> Shown:
    return Shown(id=thing_id, name=f"{limit}:{flag}")


posts = Router()


@posts.post("/things")
def make_thing(body: Thing) -> Response[Shown]:
    return Response(status_code=201, body=Shown(id="t1", name=body.name))


optional = Router()


@optional.post("/things/<thing_id>/poke")
def poke(thing_id: str, body: Annotated[Thing | None, Body()] = None) -> Response[None]:
    return Response(status_code=204) if body is None else Response(status_code=202)


liar = Router()


@liar.get("/lies")
def lie() -> Shown:
    return {"id": 1}  # type: ignore[return-value]


def event(method: str = "GET", path: dict[str, str] | None = None, **query: Any) -> dict[str, Any]:
    multi = {name: value if isinstance(value, list) else [value] for name, value in query.items()}
    return {
        "httpMethod": method,
        "pathParameters": path,
        "queryStringParameters": {name: values[-1] for name, values in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
    }


def errors(route: Any, sent: dict[str, Any], body: Any = None) -> list[tuple[str, str]]:
    with pytest.raises(RequestInvalid) as raised:
        route.serve(sent, body)
    return [(".".join(str(part) for part in error["loc"]), error["type"]) for error in raised.value.errors()]


def test_path_and_query_are_read_with_their_types_and_defaults() -> None:
    answer = router.only.serve(event(path={"thing_id": "a1"}, limit="3", flag="true"), None)
    assert answer["statusCode"] == 200 and answer["headers"]["Content-Type"] == "application/json"
    assert json.loads(answer["body"]) == {"id": "a1", "name": "3:True"}
    assert json.loads(router.only.serve(event(path={"thing_id": "a1"}), None)["body"])["name"] == "5:None"


def test_every_query_error_is_located_and_none_stops_the_others() -> None:
    found = errors(router.only, event(path={"thing_id": "a1"}, limit="0", flag="perhaps"))
    assert found == [("query.limit", "greater_than_equal"), ("query.flag", "bool_parsing")]


def test_a_scalar_sent_twice_is_refused_not_guessed() -> None:
    assert errors(router.only, event(path={"thing_id": "a1"}, limit=["2", "3"])) == [("query.limit", "int_type")]


def test_a_missing_path_parameter_is_an_error_not_none() -> None:
    assert errors(router.only, event(path=None)) == [("path.thing_id", "missing")]


def test_a_required_body_is_required_and_read_as_its_model_strictly() -> None:
    assert errors(posts.only, event("POST")) == [("body", "missing")]
    assert errors(posts.only, event("POST"), {"name": "x", "size": "2"}) == [("body.size", "int_type")]
    assert errors(posts.only, event("POST"), {"name": "x", "colour": "red"}) == [("body.colour", "extra_forbidden")]
    answer = posts.only.serve(event("POST"), {"name": "x"})
    assert answer["statusCode"] == 201 and json.loads(answer["body"]) == {"id": "t1", "name": "x"}


def test_an_optional_body_may_be_left_out() -> None:
    assert poke_status(None) == 204 and poke_status({"name": "x"}) == 202


def poke_status(body: Any) -> int:
    answer = optional.only.serve(event("POST", path={"thing_id": "a1"}), body)
    return int(answer["statusCode"])


def test_a_no_content_answer_has_no_body_and_no_content_type() -> None:
    answer = optional.only.serve(event("POST", path={"thing_id": "a1"}), None)
    assert answer["body"] is None and "Content-Type" not in answer["headers"]


def test_another_method_is_not_this_route() -> None:
    with pytest.raises(NoRoute):
        posts.only.serve(event("GET"), None)


def test_an_answer_outside_its_model_is_a_bug_not_a_response() -> None:
    with pytest.raises(ResponseInvalid):
        liar.only.serve(event(), None)


def test_a_router_serves_one_route() -> None:
    two = Router()
    two.get("/a")(lie)
    two.get("/b")(lie)
    with pytest.raises(TypeError):
        _ = two.only


def test_serving_a_function_never_loads_powertools_event_handler() -> None:
    """The point of the module: a function's cold start does not import the resolvers (~100 ms)."""
    code = (
        "import sys; sys.path[:0] = ['functions/get_task', 'layers/common']; import app; "
        "print(sorted(m for m in sys.modules if m.startswith('aws_lambda_powertools.event_handler')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"TABLE_NAME": "t", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "[]"
