"""POST /webhooks: subscribe a URL to the caller's task events (and, with skills, to new tasks of a skill)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Response, Router, caller_id, lambda_handler, metrics, webhooks
from taskboard.webhooks.models import CreatedWebhook, CreateWebhookRequest

router = Router()


@router.post(
    "/webhooks", summary="Subscribe to events", tags=["webhooks"], responses={201: {"description": "The subscription"}}
)
def create_webhook(body: CreateWebhookRequest) -> Response[CreatedWebhook]:
    created = webhooks().create(caller_id(router), body)
    metrics.add_metric(name="WebhooksCreated", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=created)


handler = lambda_handler(router)
