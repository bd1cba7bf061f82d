"""HTTP glue shared by every function: the validated resolver, the one error shape, the caller's identity.

A function module is a Router with one route plus `handler = lambda_handler(router)`. The OpenAPI generator
and the local stack include the same routers, so all three see one definition of each endpoint."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, cast

from aws_lambda_powertools.logging import correlation_paths

from taskboard.accounts.keys import Caller, ConflictingKeys
from taskboard.accounts.parties import answerable
from taskboard.core import coldstart, limits
from taskboard.core.errors import BoardError, InvalidJson, InvalidRequest, TooManyRequests, Unauthorized
from taskboard.core.json_reader import read_json
from taskboard.core.limits import BODY_MAX_BYTES
from taskboard.core.settings import get_settings
from taskboard.http import idempotency
from taskboard.http.ratelimit import Limit, RateLimiter, Verdict
from taskboard.http.routing import Body, NoRoute, Query, RequestInvalid, Response, ResponseInvalid, Route, Router
from taskboard.runtime import accounts, board, gigs, logger, metrics, on_forget, order_book, tracer, webhooks

# The search parameters that GET /tasks, GET /tasks/next and POST /tasks/next/claim share.
SkillsQuery = Annotated[str | None, Query(description="Comma-separated; tasks with any of them.")]
TagsQuery = Annotated[str | None, Query(description="Same as skills.")]
MinBudgetQuery = Annotated[int | None, Query(ge=0, le=limits.BUDGET_MAX, description="Tasks paying at least this.")]
SearchCursorQuery = Annotated[
    str | None, Query(description="The previous answer's `cursor`: go on where that search stopped.")
]
MaxBudgetQuery = Annotated[int | None, Query(ge=0, le=limits.BUDGET_MAX, description="Tasks paying at most this.")]

__all__ = [
    "Body",
    "Query",
    "Response",
    "Router",
    "accounts",
    "board",
    "caller_id",
    "gigs",
    "lambda_handler",
    "logger",
    "metrics",
    "optional_caller",
    "order_book",
    "owns",
    "party",
    "principal",
    "webhooks",
]


@functools.lru_cache(maxsize=1)
def rate_limiter() -> RateLimiter:
    return RateLimiter(get_settings().rate_limit_table_name)


on_forget(rate_limiter.cache_clear)
on_forget(idempotency.forget)


def _read_body(event: dict[str, Any]) -> Any:
    """Every body is read at the door, whatever the method and whether or not the route takes one, so no route
    sees (or ignores) a body the reader refuses; what it read is what the route validates (None: no body). A
    body still base64-encoded here did not decode to UTF-8."""
    body = event.get("body")
    if body is None:
        return None
    if event.get("isBase64Encoded"):
        raise InvalidJson("Request body is not UTF-8 text.", reason="not_utf8")
    return read_json(body)


def _request_id(event: dict[str, Any]) -> str | None:
    return (event.get("requestContext") or {}).get("requestId")


def error_response(event: dict[str, Any], status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The one error shape, as a proxy response."""
    body = {"error": message, "code": code, "request_id": _request_id(event), **extra}
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=str),
        "isBase64Encoded": False,
    }


def _invalid(event: dict[str, Any], error: RequestInvalid) -> dict[str, Any]:
    details = [
        {
            "location": ".".join(str(part) for part in item.get("loc", ())),
            "message": item.get("msg", ""),
            "type": item.get("type"),
        }
        for item in error.errors()
    ]
    summary = "; ".join(f"{item['location']}: {item['message']}" for item in details[:5])
    return error_response(event, 400, "invalid_request", f"Invalid request: {summary}", details=details)


def _serve(route: Route, event: dict[str, Any], body: Any) -> dict[str, Any]:
    """The route's answer, or the shared error mapping of what it raised."""
    try:
        return route.serve(event, body)
    except BoardError as error:
        if error.status >= 500:
            logger.exception("board error")
        return error_response(event, error.status, error.code, error.message, **error.extra)
    except RequestInvalid as error:
        return _invalid(event, error)
    except NoRoute:
        return error_response(event, 404, "not_found", "No such endpoint (the API reference is at /docs).")
    except ResponseInvalid:
        logger.exception("response outside its model")
        return error_response(event, 500, "internal_error", "Something went wrong on our side.")
    except Exception:
        logger.exception("unexpected error")
        return error_response(event, 500, "internal_error", "Something went wrong on our side.")


def _as_json_request(event: dict[str, Any]) -> dict[str, Any] | None:
    """Every body is read as JSON whatever Content-Type says (curl -d sends a form type by default).

    A body API Gateway hands over base64-encoded becomes text when its bytes are UTF-8; one that is not stays
    encoded, and the reader at the door refuses it (400 invalid_json, not_utf8). Returns an error response
    instead when the body is bigger than any valid request could be."""
    body = event.get("body")
    if body is None:
        return None
    if event.get("isBase64Encoded"):
        size = len(body) * 3 // 4  # base64 holds 3 bytes in 4 characters
        if size <= BODY_MAX_BYTES:
            try:
                raw = base64.b64decode(body, validate=True)
                event["body"], event["isBase64Encoded"], size = raw.decode(), False, len(raw)
            except (binascii.Error, UnicodeDecodeError):
                pass  # stays encoded: refused at the door
    else:
        size = len(body) if len(body) > BODY_MAX_BYTES else len(body.encode(errors="surrogatepass"))
    if size > BODY_MAX_BYTES:
        return {
            "statusCode": 413,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(
                {
                    "error": f"Request body is larger than {BODY_MAX_BYTES} bytes.",
                    "code": "payload_too_large",
                    "request_id": (event.get("requestContext") or {}).get("requestId"),
                }
            ),
        }
    for field in ("headers", "multiValueHeaders"):
        headers = {k: v for k, v in (event.get(field) or {}).items() if k.lower() != "content-type"}
        headers["Content-Type"] = "application/json" if field == "headers" else ["application/json"]
        event[field] = headers
    return None


Access = Literal["key", "optional", "public"]
RateLimited = Literal["api", "poll", "signup"]


def _caller(event: dict[str, Any], access: Access) -> Caller | None:
    """The caller the API's authorizer found (requestContext.authorizer), checked before anything else about
    the request, so an anonymous caller with a bad body hears 401, not 400. An unknown or revoked key never
    gets here: the authorizer refuses it with 401. "public" endpoints have no authorizer."""
    if access == "public":
        return None
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    if context.get("refusal") == ConflictingKeys.code:
        raise ConflictingKeys()
    caller = Caller.from_context(context)
    if caller is None and access == "key":
        raise Unauthorized(
            "Send your API key as `x-api-key: KEY`, `X-Agent-API-Key: KEY` or `Authorization: Bearer KEY` "
            "(POST /keys makes one)."
        )
    return caller


def _limit(kind: RateLimited) -> Limit:
    settings = get_settings()
    if kind == "signup":
        return Limit("signup", settings.signup_limit_per_hour, 3_600)
    if kind == "poll":
        return Limit("poll", settings.poll_rate_limit_per_minute, 60)
    return Limit("api", settings.rate_limit_per_minute, 60)


def _rate_limit(event: dict[str, Any], caller: Caller | None, kind: RateLimited) -> Verdict | None:
    """Count this request; None if the counter could not be reached (the request goes ahead: fail open)."""
    source = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "unknown"
    subject = caller.key_id if caller is not None and kind != "signup" else f"ip:{source}"
    try:
        return rate_limiter().hit(_limit(kind), subject)
    except Exception:
        logger.warning("rate limiter unavailable; request let through", exc_info=True)
        metrics.add_metric(name="RateLimiterErrors", unit="Count", value=1)
        return None


def _refuse_unwanted_body(body: Any, takes_body: bool) -> None:
    """A body with fields sent to an endpoint that takes none is refused, as an unknown field would be: a client
    that thinks it sent `{"reason": ...}` with a complete must hear that nothing read it. `{}` is no body."""
    if takes_body or not body:
        return
    fields = ", ".join(sorted(body))
    details = [{"location": "body", "message": "This endpoint takes no body.", "type": "extra_forbidden"}]
    raise InvalidRequest(f"Invalid request: this endpoint takes no body (sent: {fields}).", details=details)


def _refuse_unknown_query(event: dict[str, Any], known: frozenset[str]) -> None:
    """An unknown query parameter is refused, as an unknown body field is: a misspelt filter (`minReward`) or an
    offset pager would otherwise be served as if it had not been sent."""
    sent = {**(event.get("multiValueQueryStringParameters") or {}), **(event.get("queryStringParameters") or {})}
    unknown = sorted(name for name in sent if name not in known)
    if not unknown:
        return
    takes = f"this endpoint takes {', '.join(sorted(known))}" if known else "this endpoint takes none"
    details = [
        {"location": f"query.{name}", "message": f"Unknown query parameter ({takes}).", "type": "extra_forbidden"}
        for name in unknown
    ]
    raise InvalidRequest(f"Invalid request: unknown query parameter {', '.join(unknown)} ({takes}).", details=details)


def lambda_handler(router: Router, access: Access = "key", limit: RateLimited = "api") -> Any:
    """The Lambda entry point for one function: the caller, its rate limit, then logging with the request's
    correlation id, tracing, metrics, validation and the route. `access` says who may call: "key" holders only,
    anyone ("optional": a key, if sent, must be valid), or anyone with no authorizer at all ("public").
    `limit` names the counter the request is charged to: "api" and "poll" per key (per source IP without
    one) and minute, "signup" per source IP and hour."""
    route = router.only

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        refused = _as_json_request(event)
        if refused is not None:
            return refused
        verdict: Verdict | None = None
        try:
            caller = _caller(event, access)
            verdict = _rate_limit(event, caller, limit)
            if verdict is not None and not verdict.allowed:
                raise TooManyRequests(
                    f"Rate limit of {verdict.limit} requests reached; retry in {verdict.retry_after} s.",
                    retry_after=verdict.retry_after,
                )
            _refuse_unknown_query(event, route.query_names)
            body = _read_body(event)  # a body the reader refuses is a 400 before anything (idempotency, the route)
            _refuse_unwanted_body(body, route.body is not None)
            router.context.clear()
            router.context.update(caller=caller.account_id if caller else None, principal=caller)
            response = idempotency.once(
                event,
                context,
                caller.account_id if caller else None,
                get_settings().idempotency_table_name,
                lambda: _serve(route, event, body),
            )
        except BoardError as error:  # refused before the route runs: no key, a rate limit, a replay that cannot be
            response = error_response(event, error.status, error.code, error.message, **error.extra)
        if verdict is not None:
            response.setdefault("headers", {}).update(verdict.headers())
        return response

    handler.route = route  # type: ignore[attr-defined]
    coldstart.done()  # the function's module is built (it ends with this call): collection back on
    handler.access = access  # type: ignore[attr-defined]  # read by the OpenAPI generator (security requirements)
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


def principal(router: Router) -> Caller:
    """The caller (account, role, key, owner); only for functions whose `access` is "key"."""
    found = cast(Caller | None, router.context.get("principal"))
    if found is None:
        raise Unauthorized("This endpoint needs an API key.")
    return found


def party(router: Router) -> str:
    """Who answers for the caller (its owner, or itself: lifecycle.answerable), from the authorizer's context with
    no read: an agent's owner is written once, at connect. Only for functions whose `access` is "key"."""
    me = principal(router)
    return answerable(me.account_id, me.owner_id)


def owns(router: Router) -> Callable[[str], bool] | None:
    """For an owner account: whether it registered a given agent (one read per agent, remembered for the
    request). None for anyone else, who sees only what its own account may."""
    caller = cast(Caller | None, router.context.get("principal"))
    if caller is None or caller.role != "owner":
        return None
    known: dict[str, bool] = {}

    def check(agent_id: str) -> bool:
        if agent_id not in known:
            known[agent_id] = accounts().owner_of(agent_id) == caller.account_id
        return known[agent_id]

    return check


def poll_timeout(requested: int) -> float:
    """The seconds a long poll may wait: what the client asked, capped by the stage setting (<= 25)."""
    return float(min(requested, get_settings().max_poll_seconds))
