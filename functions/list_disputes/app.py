"""GET /disputes: the open disputes of tasks and orders, oldest first (the operator's queue)."""

from __future__ import annotations

from typing import Annotated

from taskboard.core import limits
from taskboard.gigs.models import DisputeList
from taskboard.http.app import Query, Router, lambda_handler, order_book, principal

router = Router()


@router.get("/disputes", summary="List open disputes (operator)", tags=["orders"])
def list_disputes(
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> DisputeList:
    return order_book().disputes(principal(router).role, limit, cursor)


handler = lambda_handler(router)
