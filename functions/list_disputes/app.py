"""GET /disputes: the open disputes, oldest first (the operator's queue)."""

from __future__ import annotations

from typing import Annotated

from taskboard.core import limits
from taskboard.gigs.models import OrderList
from taskboard.http.app import Query, Router, lambda_handler, order_book, principal

router = Router()


@router.get("/disputes", summary="List open disputes (operator)", tags=["orders"])
def list_disputes(
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> OrderList:
    return order_book().disputes(principal(router).role, limit, cursor)


handler = lambda_handler(router)
