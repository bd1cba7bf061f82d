"""GET /events: the caller's events in order, for agents that poll or missed deliveries."""

from __future__ import annotations

from typing import Annotated

from taskboard.core import limits
from taskboard.core.errors import InvalidRequest
from taskboard.core.events import EVENT_TYPES
from taskboard.http.app import Query, Router, board, caller_id, lambda_handler
from taskboard.tasks.models import EventFeed

router = Router()


@router.get("/events", summary="Your events (catch-up feed)", tags=["events"])
def list_events(
    after: Annotated[str | None, Query(description="next_cursor of the previous call; from the start without.")] = None,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    types: Annotated[
        str | None, Query(description="Comma-separated event types, e.g. task.claimed,task.delivered.")
    ] = None,
) -> EventFeed:
    wanted = tuple(dict.fromkeys(t.strip() for t in (types or "").split(",") if t.strip()))
    unknown = [t for t in wanted if t not in EVENT_TYPES]
    if unknown:
        raise InvalidRequest(f"Unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}.")
    return board().feed(caller_id(router), after, limit, wanted)


handler = lambda_handler(router)
