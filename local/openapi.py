"""The OpenAPI document, generated from the same routers and pydantic models the functions use.

`python -m local.openapi` (`make openapi`) writes docs/openapi.json and the two files the API serves itself
(functions/api_docs/: openapi.json for GET /openapi.json, index.html for GET /docs); a test fails when any
committed copy drifts from the code."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from local.template import ROOT, function_routes, load_template

OPENAPI_FILE = ROOT / "docs" / "openapi.json"
SERVED_DIR = ROOT / "functions" / "api_docs"  # packaged with the functions behind GET /openapi.json and GET /docs


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


# Who may call, as each function's `lambda_handler(access=...)` says: a key, a key or nobody, nobody needed.
KEYED: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}]
SECURITY: dict[str, list[dict[str, list[str]]]] = {"key": KEYED, "optional": [*KEYED, {}], "public": []}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    "description": "Retrying with the same key, query and body (compared as JSON) returns the first response "
    "(header Idempotent-Replayed: true) instead of doing the work again; kept 24 h, per account (per source IP "
    "for sign-ups). A retry of a response that carried a secret gets 409 idempotency_secret_shown instead.",
}
ERRORS_400 = "Bad input: invalid JSON, wrong types, out of range, an unknown field or query parameter, a bad cursor"
ERRORS_4XX = "Any other error (401, 402, 403, 404, 409, 413, 422, 429); see `code`"


def operation_id(function_name: str) -> str:
    """`claim_task` -> `claimTask`: the name a code generator gives the client method."""
    first, *rest = function_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _routes() -> list[tuple[str, str, Any, str]]:
    """(path as API Gateway writes it, method, the route's router, its access) for every API function."""
    from local.stack import Stack

    loader = Stack.__new__(Stack)
    loader._modules = {}
    found = []
    for route in function_routes(load_template()):
        module = loader.module(route)
        found.append((route.path, route.method.lower(), powertools_router(module.router.only), module.handler.access))
    return found


def powertools_router(route: Any) -> Any:
    """`route` (taskboard.http.routing.Route) as a Powertools router, for Powertools to describe: the same
    function signature with Powertools' own Query, Body and Response in place of the lightweight markers the
    functions serve with, so the document reads the very declarations the functions validate with."""
    import inspect
    import typing
    from typing import Annotated

    from aws_lambda_powertools.event_handler import Response as PowertoolsResponse
    from aws_lambda_powertools.event_handler.api_gateway import Router
    from aws_lambda_powertools.event_handler.openapi.params import Body as PowertoolsBody
    from aws_lambda_powertools.event_handler.openapi.params import Query as PowertoolsQuery

    from taskboard.http.routing import Body, Query, Response

    def translated(annotation: Any) -> Any:
        if typing.get_origin(annotation) is Annotated:
            inner, *extras = typing.get_args(annotation)
            converted = [
                PowertoolsQuery(**extra.keywords())
                if isinstance(extra, Query)
                else PowertoolsBody(**extra.keywords())
                if isinstance(extra, Body)
                else extra
                for extra in extras
            ]
            return Annotated[(inner, *converted)]  # type: ignore[misc]
        if typing.get_origin(annotation) is Response:
            return PowertoolsResponse[typing.get_args(annotation)]  # type: ignore[misc]
        return annotation

    hints = route.hints
    signature = inspect.signature(route.function)
    parameters = [
        parameter.replace(annotation=translated(hints.get(name, parameter.annotation)))
        for name, parameter in signature.parameters.items()
    ]

    def endpoint(**_: Any) -> Any:
        raise NotImplementedError("described, never called")

    endpoint.__name__ = route.function.__name__
    endpoint.__doc__ = route.function.__doc__
    endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=translated(hints.get("return", signature.return_annotation))
    )
    router = Router()
    router.route(route.path, route.method, **route.openapi)(endpoint)
    return router


def _strip_validation_schemas(schema: dict[str, Any]) -> None:
    """Powertools adds its own 422 validation shapes; this API answers 400 in the one error shape instead."""
    schemas = schema["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)


def _request_example(schema: dict[str, Any], operation: dict[str, Any]) -> None:
    """Each JSON request body shows its model's examples (OpenAPI `examples` on the media type)."""
    media = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not media:
        return
    body = media["schema"]  # {"$ref": ...}, or {"anyOf": [{"$ref": ...}, {"type": "null"}]} for an optional body
    refs = [body.get("$ref")] + [option.get("$ref") for option in body.get("anyOf", [])]
    ref = next((ref for ref in refs if ref), "")
    examples = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}).get("examples", [])
    if examples:
        media["examples"] = {f"example{n}": {"value": value} for n, value in enumerate(examples, start=1)}


def generate() -> dict[str, Any]:
    for name, value in {
        "TABLE_NAME": "openapi",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    layer = str(ROOT / "layers" / "common")
    if layer not in sys.path:
        sys.path.insert(0, layer)
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from taskboard.core.fields import ErrorResponse

    app = APIGatewayRestResolver(enable_validation=True)
    routes = _routes()
    names: dict[tuple[str, str], str] = {}
    access: dict[tuple[str, str], str] = {}
    for path, method, router, allowed in routes:
        app.include_router(router)
        ((_, _, *_), function), *_ = router._routes.items()
        names[path, method] = function.__name__
        access[path, method] = allowed
    schema = app.get_openapi_schema(
        title="Agent Task Board API",
        version="1.0.0",
        summary="A task board for autonomous agents: post, find, claim, deliver, accept.",
        description="Errors share one JSON shape (ErrorResponse). "
        "Send your key as `x-api-key: KEY` or `Authorization: Bearer KEY` (`X-Agent-API-Key: KEY` works too); "
        "operations whose security "
        "lists no requirement are public, and those that also list `{}` take a key but do not need one. "
        "Unknown body fields and unknown query parameters are refused with 400 `invalid_request`. "
        "Every request body must be one JSON object of UTF-8 text, at most 20 levels deep, with no duplicate keys, "
        "no NaN or Infinity, integers of at most 20 digits and finite floats; anything else is refused with 400 "
        "`invalid_json` and a `reason`. Fields are read strictly: an integer field takes an integer only (1.0 and "
        '"1" are refused), a string field a string, a boolean true or false.',
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["ErrorResponse"] = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    _strip_validation_schemas(schema)
    components["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "An `atb_...` key."},
        "bearer": {"type": "http", "scheme": "bearer", "description": "The same key as `Authorization: Bearer`."},
    }
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            operation["operationId"] = operation_id(names[path, method])
            operation["security"] = SECURITY[access[path, method]]
            if method == "post":  # read by taskboard.http.idempotency before the route runs, so declared here
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            _request_example(schema, operation)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, response in responses.items():
                if status == "204":
                    response.pop("content", None)  # no body, so no media type
                elif status[0] in "45":  # a route's own error statuses: Powertools gives them the success model
                    response["content"] = _error_response("")["content"]
            responses["400"] = _error_response(ERRORS_400)
            responses["4XX"] = _error_response(ERRORS_4XX)
            if access[path, method] != "public":
                responses["401"] = _error_response("A key that is malformed, unknown or revoked (or none where needed)")
    return schema


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"


def generated_files() -> dict[Path, str]:
    """Every file `make openapi` writes, with its content: the document, its served copy, the docs page."""
    from local.docs_page import render_html

    document = render()
    return {
        OPENAPI_FILE: document,
        SERVED_DIR / "openapi.json": document,
        SERVED_DIR / "index.html": render_html(json.loads(document)),
    }


def main() -> None:
    for path, content in generated_files().items():
        path.write_text(content)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
