"""GET /webhooks/{webhook_id}/deliveries: recent delivery attempts, newest first."""

from __future__ import annotations

from typing import Annotated

from taskboard.core import limits
from taskboard.http.app import Query, Router, caller_id, lambda_handler, webhooks
from taskboard.webhooks.models import DeliveryList

router = Router()


@router.get("/webhooks/<webhook_id>/deliveries", summary="A webhook's delivery attempts", tags=["webhooks"])
def list_webhook_deliveries(
    webhook_id: str,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> DeliveryList:
    return webhooks().deliveries(caller_id(router), webhook_id, limit, cursor)


handler = lambda_handler(router)
