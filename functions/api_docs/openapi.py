"""GET /openapi.json: the API's OpenAPI 3.1 document, generated from the routers and models by `make openapi`.

openapi.json next to this module is the same file as docs/openapi.json (a test keeps the two equal)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from taskboard.http.app import Response, Router, lambda_handler

router = Router()


@lru_cache(maxsize=1)
def document() -> str:
    """Read once per container, on the first request."""
    return (Path(__file__).parent / "openapi.json").read_text(encoding="utf-8")


@router.get(
    "/openapi.json",
    summary="OpenAPI document",
    description="This API described in OpenAPI 3.1: every operation, parameter, model and error.",
    tags=["docs"],
    operation_id="getOpenApi",
    responses={
        200: {
            "description": "The OpenAPI document",
            "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
        }
    },
)
def get_open_api() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=document())


handler = lambda_handler(router, access="public")
