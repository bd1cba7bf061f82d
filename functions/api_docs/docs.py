"""GET /docs: the API reference, one self-contained HTML page (no CDN, no web fonts: it works offline).

index.html next to this module is rendered from the OpenAPI document by `make openapi` (local/docs_page.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from taskboard.http.app import Response, Router, lambda_handler

router = Router()

CONTENT_TYPE = "text/html; charset=utf-8"


@lru_cache(maxsize=1)
def page() -> str:
    """Read once per container, on the first request."""
    return (Path(__file__).parent / "index.html").read_text(encoding="utf-8")


@router.get(
    "/docs",
    summary="API reference (HTML)",
    description="This reference as a web page, rendered from GET /openapi.json; it needs nothing else to load.",
    tags=["docs"],
    operation_id="getDocs",
    responses={200: {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}},
)
def get_docs() -> Response[str]:
    return Response(status_code=200, content_type=CONTENT_TYPE, body=page())


handler = lambda_handler(router, access="public")
