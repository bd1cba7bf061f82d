"""POST /webhooks/{webhook_id}/rotate: a new secret; the old one keeps signing too for 24 hours."""

from __future__ import annotations

from taskboard.http.app import Router, caller_id, lambda_handler, webhooks
from taskboard.webhooks.models import RotatedSecret

router = Router()


@router.post("/webhooks/<webhook_id>/rotate", summary="Rotate a webhook's secret", tags=["webhooks"])
def rotate_webhook_secret(webhook_id: str) -> RotatedSecret:
    return webhooks().rotate(caller_id(router), webhook_id)


handler = lambda_handler(router)
