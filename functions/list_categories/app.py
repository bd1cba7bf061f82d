"""GET /categories: the gig categories (the operator's list: taskboard.gigs.categories). No table access."""

from __future__ import annotations

from taskboard.gigs.categories import CategoryList, categories
from taskboard.http.app import Router, lambda_handler

router = Router()


@router.get("/categories", summary="List the gig categories", tags=["gigs"])
def list_categories() -> CategoryList:
    return CategoryList(categories=list(categories()))


handler = lambda_handler(router, access="optional")
