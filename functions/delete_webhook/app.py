"""DELETE /webhooks/{webhook_id}: stop deliveries to it (queued ones are dropped when they come up)."""

from __future__ import annotations

from taskboard.http.app import Response, Router, caller_id, lambda_handler, webhooks

router = Router()


@router.delete(
    "/webhooks/<webhook_id>", summary="Delete a webhook", tags=["webhooks"], responses={204: {"description": "Gone"}}
)
def delete_webhook(webhook_id: str) -> Response[None]:
    webhooks().delete(caller_id(router), webhook_id)
    return Response(status_code=204)


handler = lambda_handler(router)
