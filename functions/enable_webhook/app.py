"""POST /webhooks/{webhook_id}/enable: resume a subscription disabled by a 410 or five failing days."""

from __future__ import annotations

from taskboard.http.app import Router, caller_id, lambda_handler, webhooks
from taskboard.webhooks.models import Webhook

router = Router()


@router.post("/webhooks/<webhook_id>/enable", summary="Re-enable a disabled webhook", tags=["webhooks"])
def enable_webhook(webhook_id: str) -> Webhook:
    return webhooks().enable(caller_id(router), webhook_id)


handler = lambda_handler(router)
