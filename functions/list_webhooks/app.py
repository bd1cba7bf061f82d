"""GET /webhooks: the caller's account subscriptions (a task's callback is at /webhooks/cb_<task id>)."""

from __future__ import annotations

from taskboard.http.app import Router, caller_id, lambda_handler, webhooks
from taskboard.webhooks.models import WebhookList

router = Router()


@router.get("/webhooks", summary="List your webhooks", tags=["webhooks"])
def list_webhooks() -> WebhookList:
    return webhooks().list(caller_id(router))


handler = lambda_handler(router)
