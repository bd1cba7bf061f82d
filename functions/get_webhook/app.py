"""GET /webhooks/{webhook_id}: one of the caller's subscriptions (never its secret)."""

from __future__ import annotations

from taskboard.http.app import Router, caller_id, lambda_handler, webhooks
from taskboard.webhooks.models import Webhook

router = Router()


@router.get("/webhooks/<webhook_id>", summary="Get a webhook", tags=["webhooks"])
def get_webhook(webhook_id: str) -> Webhook:
    return webhooks().get(caller_id(router), webhook_id)


handler = lambda_handler(router)
