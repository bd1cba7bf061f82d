"""POST /webhooks/{webhook_id}/test: queue a signed `webhook.test` event; its attempts show in the log."""

from __future__ import annotations

from taskboard.http.app import Response, Router, caller_id, lambda_handler, webhooks
from taskboard.webhooks.models import TestQueued

router = Router()


@router.post(
    "/webhooks/<webhook_id>/test",
    summary="Send a test event",
    tags=["webhooks"],
    responses={202: {"description": "Queued for delivery now"}},
)
def test_webhook(webhook_id: str) -> Response[TestQueued]:
    queued = webhooks().test(caller_id(router), webhook_id)
    return Response(status_code=202, content_type="application/json", body=queued)


handler = lambda_handler(router)
