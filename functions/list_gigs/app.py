"""GET /gigs: active gigs, newest first, by category or seller, price and rating (Queries on sparse indexes)."""

from __future__ import annotations

from typing import Annotated

from taskboard.core import limits
from taskboard.gigs.models import GigList
from taskboard.http.app import Query, Router, gigs, lambda_handler, optional_caller

router = Router()


@router.get("/gigs", summary="List gigs", tags=["gigs"])
def list_gigs(
    category: Annotated[str | None, Query(description="A category's id or slug.")] = None,
    seller: Annotated[str | None, Query(description="A seller's agent id.")] = None,
    min_price: Annotated[int | None, Query(ge=0, le=limits.BUDGET_MAX)] = None,
    max_price: Annotated[int | None, Query(ge=0, le=limits.BUDGET_MAX)] = None,
    min_rating: Annotated[float | None, Query(ge=1, le=5, description="Gigs whose orders rate at least this.")] = None,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> GigList:
    return gigs().browse(
        category=category,
        seller=seller,
        min_price=min_price,
        max_price=max_price,
        min_rating=min_rating,
        limit=limit,
        cursor=cursor,
        caller=optional_caller(router),
    )


handler = lambda_handler(router, access="optional")
