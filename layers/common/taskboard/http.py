"""HTTP glue shared by every function: the validated resolver, the one error shape, the caller's identity.

A function module is a Router with one route plus `handler = lambda_handler(router)`. The OpenAPI generator
and the local stack include the same routers, so all three see one definition of each endpoint."""

from __future__ import annotations

import json
from typing import Any, Literal, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from taskboard import idempotency
from taskboard.auth import key_from_headers
from taskboard.errors import BoardError, Unauthorized
from taskboard.limits import BODY_MAX_BYTES
from taskboard.runtime import board, keys, logger, metrics, tracer, webhooks
from taskboard.settings import get_settings

__all__ = [
    "Router",
    "board",
    "caller_id",
    "keys",
    "lambda_handler",
    "logger",
    "make_app",
    "metrics",
    "optional_caller",
    "webhooks",
]


def _json_body(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("JSON is nested too deeply", text, 0) from None


def error_response(status: int, code: str, message: str, request_id: str | None = None, **extra: Any) -> Response:
    body = {"error": message, "code": code, "request_id": request_id, **extra}
    return Response(status_code=status, content_type="application/json", body=json.dumps(body, default=str))


def _request_id(app: APIGatewayRestResolver) -> str | None:
    return (app.current_event.raw_event.get("requestContext") or {}).get("requestId")


def make_app(router: Router) -> APIGatewayRestResolver:
    """A resolver with request validation, the shared error mapping, and `router`'s routes."""
    app = APIGatewayRestResolver(
        enable_validation=True, json_body_deserializer=_json_body, response_validation_error_http_code=500
    )

    @app.exception_handler(BoardError)
    def _board_error(error: BoardError) -> Response:
        if error.status >= 500:
            logger.exception("board error")
        return error_response(error.status, error.code, error.message, _request_id(app), **error.extra)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        details = [
            {
                "location": ".".join(str(part) for part in item.get("loc", ())),
                "message": item.get("msg", ""),
                "type": item.get("type"),
            }
            for item in error.errors()
        ]
        if any(item["type"] == "json_invalid" for item in details):
            return error_response(
                400, "invalid_json", "Request body is not valid JSON.", _request_id(app), details=details
            )
        summary = "; ".join(f"{item['location']}: {item['message']}" for item in details[:5])
        return error_response(400, "invalid_request", f"Invalid request: {summary}", _request_id(app), details=details)

    @app.exception_handler(NotFoundError)
    def _no_route(_: NotFoundError) -> Response:
        return error_response(404, "not_found", "No such endpoint.", _request_id(app))

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong on our side.", _request_id(app))

    app.include_router(router)
    return app


def _as_json_request(event: dict[str, Any]) -> dict[str, Any] | None:
    """Every body is read as JSON whatever Content-Type says (curl -d sends a form type by default).

    Returns an error response instead when the body is bigger than any valid request could be."""
    body = event.get("body")
    if body is None:
        return None
    if len(body) > BODY_MAX_BYTES:
        return {
            "statusCode": 413,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(
                {"error": f"Request body is larger than {BODY_MAX_BYTES} bytes.", "code": "payload_too_large"}
            ),
        }
    for field in ("headers", "multiValueHeaders"):
        headers = {k: v for k, v in (event.get(field) or {}).items() if k.lower() != "content-type"}
        headers["Content-Type"] = "application/json" if field == "headers" else ["application/json"]
        event[field] = headers
    return None


Access = Literal["key", "optional", "public"]


def _identify(event: dict[str, Any], access: Access) -> str | None:
    """The caller's account id, checked before anything else about the request (so an anonymous caller with
    a bad body hears 401, not 400). Raises Unauthorized for a missing key where one is needed, and for an
    unknown key anywhere but on a `public` endpoint (POST /keys: how a client replaces a lost key)."""
    key = key_from_headers(event.get("headers"))
    if access == "public":
        return None
    if key is None:
        if access == "key":
            raise Unauthorized(
                "Send your API key as `x-api-key: KEY` or `Authorization: Bearer KEY` (POST /keys makes one)."
            )
        return None
    return keys().account_for(key)


def lambda_handler(router: Router, access: Access = "key") -> Any:
    """The Lambda entry point for one function: the caller, then logging with the request's correlation id,
    tracing, metrics, validation and the route. `access` says who may call: "key" holders only, anyone
    ("optional": a key, if sent, must be valid), or anyone with no key check at all ("public")."""
    app = make_app(router)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        refused = _as_json_request(event)
        if refused is not None:
            return refused
        try:
            caller = _identify(event, access)
            app.append_context(caller=caller)
            return idempotency.once(
                event, context, caller, get_settings().idempotency_table_name, lambda: app.resolve(event, context)
            )
        except BoardError as error:  # refused before the route runs: no key, or a replay that cannot be
            request_id = (event.get("requestContext") or {}).get("requestId")
            body = {"error": error.message, "code": error.code, "request_id": request_id}
            return {
                "statusCode": error.status,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(body),
            }

    handler.app = app  # type: ignore[attr-defined]
    return handler


def optional_caller(router: Router) -> str | None:
    """The caller's account id, or None for an anonymous caller (the key was checked on the way in)."""
    return cast(str | None, router.context.get("caller"))


def caller_id(router: Router) -> str:
    """The caller's account id; only for functions whose `access` is "key", where a key is guaranteed."""
    caller = optional_caller(router)
    if caller is None:
        raise Unauthorized("This endpoint needs an API key.")
    return caller


def poll_timeout(requested: int) -> float:
    """The seconds a long poll may wait: what the client asked, capped by the stage setting (<= 25)."""
    return float(min(requested, get_settings().max_poll_seconds))
