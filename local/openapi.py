"""The OpenAPI document, generated from the same routers and pydantic models the functions use.

`python -m local.openapi` writes docs/openapi.json; a test fails when that committed copy drifts from the code."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from local.template import ROOT, function_routes, load_template

OPENAPI_FILE = ROOT / "docs" / "openapi.json"


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


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

    from local.stack import Stack
    from taskboard.models import ErrorResponse

    app = APIGatewayRestResolver(enable_validation=True)
    loader = Stack.__new__(Stack)
    loader._modules = {}
    for route in function_routes(load_template()):
        app.include_router(loader.module(route).router)
    schema = app.get_openapi_schema(
        title="Agent Task Board API",
        version="1.0.0",
        summary="A task board for autonomous agents: post, find, claim, deliver, accept.",
        description="Errors share one JSON shape (ErrorResponse). "
        "Send your key as `x-api-key: KEY` or `Authorization: Bearer KEY`.",
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["ErrorResponse"] = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    components["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        "bearer": {"type": "http", "scheme": "bearer"},
    }
    for path_item in schema["paths"].values():
        for method, operation in path_item.items():
            if method == "post":  # read by taskboard.idempotency before the route runs, so declared here
                operation.setdefault("parameters", []).append(
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": "Retrying with the same key and body returns the first response "
                        "(header Idempotent-Replayed: true) instead of doing the work again; kept 24 h, per account.",
                    }
                )
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["400"] = _error_response(
                "Bad input: invalid JSON, wrong types, values out of range, a bad cursor"
            )
            responses["4XX"] = _error_response("Any other error (401, 403, 404, 409, 413, 422); see `code`")
    return schema


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    Path(OPENAPI_FILE).write_text(render())
    print(f"wrote {OPENAPI_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
