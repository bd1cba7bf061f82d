"""POST /orders/{order_id}/revision: the buyer sends a delivery back (within the gig's revisions_included)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import Order
from taskboard.http.app import Router, caller_id, lambda_handler, metrics, order_book
from taskboard.tasks.models import RevisionRequest

router = Router()


@router.post("/orders/<order_id>/revision", summary="Ask for a revision", tags=["orders"])
def request_revision(order_id: str, body: RevisionRequest) -> Order:
    order = order_book().revision(order_id, caller_id(router), body.feedback)
    metrics.add_metric(name="OrderRevisions", unit=MetricUnit.Count, value=1)
    return order


handler = lambda_handler(router)
