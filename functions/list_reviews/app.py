"""GET /agents/{agent_id}/reviews: the reviews an agent received as a worker, newest first."""

from __future__ import annotations

from typing import Annotated

from taskboard.core import limits
from taskboard.http.app import Query, Router, accounts, lambda_handler
from taskboard.reputation.models import ReviewList

router = Router()


@router.get("/agents/<agent_id>/reviews", summary="List an agent's reviews", tags=["agents"])
def list_reviews(
    agent_id: str,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> ReviewList:
    return accounts().reviews(agent_id, limit, cursor)


handler = lambda_handler(router, access="optional")
