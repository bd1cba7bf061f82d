"""docs/openapi.json is a valid OpenAPI 3.1 document a client generator can use as it stands.

The committed document is what these tests read; tests/test_template.py checks it is what the code generates."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from local.openapi import OPENAPI_FILE
from local.template import function_routes, load_template
from taskboard.accounts.models import AGENT_ID_SCHEMA, RESERVED_AGENT_IDS, RegistrationTokenRequest
from taskboard.core.fields import TAG_SCHEMA, normalize_tag

DOCUMENT = json.loads(OPENAPI_FILE.read_text())
OPERATIONS = [
    (method, path, operation) for path, item in DOCUMENT["paths"].items() for method, operation in item.items()
]
IDS = [f"{method.upper()} {path}" for method, path, _ in OPERATIONS]
KEY = [{"apiKey": []}, {"bearer": []}]


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)  # raises on any error: a dangling $ref, a bad parameter, a wrong type


def test_every_operation_has_a_stable_name_a_code_generator_would_want() -> None:
    names = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", name) for name in names), names
    by_route = {f"{method.upper()} {path}": operation["operationId"] for method, path, operation in OPERATIONS}
    assert by_route["POST /tasks/{task_id}/claim"] == "claimTask"
    assert by_route["GET /tasks"] == "listTasks"
    assert by_route["POST /tasks/next/claim"] == "claimNextTask"


def test_security_says_which_operations_need_a_key_and_which_are_public() -> None:
    # the template's routes without an authorizer are the public ones; every other one checks a key if sent
    template = load_template()
    public = set()
    for route in function_routes(template):
        event = next(iter(template["Resources"][route.logical_id]["Properties"]["Events"].values()))
        if (event["Properties"].get("Auth") or {}).get("Authorizer") == "NONE":
            public.add(f"{route.method} {route.path}")
    for method, path, operation in OPERATIONS:
        route = f"{method.upper()} {path}"
        if route in public:
            assert operation["security"] == [], route
        else:
            # a key is required, or (anonymous reads) accepted: then the empty requirement is listed too
            assert operation["security"] in (KEY, [*KEY, {}]), route
            assert "401" in operation["responses"], route
    assert set(DOCUMENT["components"]["securitySchemes"]) == {"apiKey", "bearer"}
    by_route = {f"{method.upper()} {path}": operation for method, path, operation in OPERATIONS}
    assert by_route["POST /tasks"]["security"] == KEY
    assert by_route["GET /tasks"]["security"] == [*KEY, {}]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_no_content_answers_document_no_body(method: str, path: str, operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        if status == "204":
            assert "content" not in response, f"{method} {path}"


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with the document's components beside it, so its $refs resolve."""
    return {**schema, "components": DOCUMENT["components"]}


BODIES = [(m, p, o) for m, p, o in OPERATIONS if "requestBody" in o]


@pytest.mark.parametrize(("method", "path", "operation"), BODIES, ids=[f"{m.upper()} {p}" for m, p, _ in BODIES])
def test_every_request_body_has_examples_that_its_schema_accepts(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    media = operation["requestBody"]["content"]["application/json"]
    assert media.get("examples"), f"{method} {path} has no example"
    for example in media["examples"].values():
        jsonschema.validate(example["value"], _resolved(media["schema"]))


def test_patterns_and_limits_of_the_models_are_in_the_schemas() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    task = schemas["CreateTaskRequest"]["properties"]
    assert task["tags"]["maxItems"] == 10 and task["tags"]["items"]["pattern"] == TAG_SCHEMA["pattern"]
    assert task["title"]["maxLength"] == 200 and task["max_attempts"]["maximum"] == 10
    assert schemas["ConnectRequest"]["properties"]["agent_id"]["pattern"] == AGENT_ID_SCHEMA["pattern"]
    assert "pattern" in schemas["CreateKeyRequest"]["properties"]["email"]["anyOf"][0]
    limit = next(p for p in DOCUMENT["paths"]["/tasks"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)


def test_no_schema_powertools_adds_for_its_own_validation_errors_is_left() -> None:
    text = OPENAPI_FILE.read_text()
    assert "ValidationError" not in text and "HTTPValidationError" not in text


# The documented patterns describe what the validators accept (they lower-case first).


@settings(max_examples=200, deadline=None)
@given(st.from_regex(TAG_SCHEMA["pattern"], fullmatch=True))
def test_every_tag_the_documented_pattern_admits_is_accepted(tag: str) -> None:
    assert normalize_tag(tag) == tag.lower()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=60))
def test_a_tag_the_documented_pattern_refuses_is_refused(tag: str) -> None:
    if re.fullmatch(TAG_SCHEMA["pattern"], tag.strip()):
        return  # admitted (covered above)
    with pytest.raises(ValueError):
        normalize_tag(tag)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=70))
def test_an_agent_id_is_accepted_exactly_when_the_documented_pattern_admits_it(agent_id: str) -> None:
    admitted = bool(re.fullmatch(AGENT_ID_SCHEMA["pattern"], agent_id.strip()))
    reserved = agent_id.strip().lower() in RESERVED_AGENT_IDS
    try:
        RegistrationTokenRequest.model_validate({"agent_id": agent_id})
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == (admitted and not reserved), agent_id
