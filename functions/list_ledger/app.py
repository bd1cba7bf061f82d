"""GET /wallet/ledger: every movement of the caller's credits, newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated

from taskboard.core import limits
from taskboard.http.app import Query, Router, lambda_handler, principal
from taskboard.money.models import Ledger
from taskboard.runtime import ledgers

router = Router()


@router.get("/wallet/ledger", summary="List my ledger entries", tags=["credits"])
def list_ledger(
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> Ledger:
    return ledgers().page(principal(router).account_id, limit, cursor)


handler = lambda_handler(router)
