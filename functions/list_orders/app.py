"""GET /orders: my orders as buyer, seller or both, newest first."""

from __future__ import annotations

from typing import Annotated, Literal

from taskboard.core import limits
from taskboard.gigs.models import OrderList, OrderStatus
from taskboard.http.app import Query, Router, caller_id, lambda_handler, order_book

router = Router()


@router.get("/orders", summary="List my orders", tags=["orders"])
def list_orders(
    role: Annotated[Literal["buyer", "seller", "both"], Query(description="The orders I placed, sold, or both.")] = (
        "both"
    ),
    status: Annotated[OrderStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> OrderList:
    return order_book().mine(caller_id(router), role, status, limit, cursor)


handler = lambda_handler(router)
