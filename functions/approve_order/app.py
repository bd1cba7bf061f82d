"""POST /orders/{order_id}/approve: the buyer accepts the delivery; the seller is paid the price minus the fee."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import Approved
from taskboard.http.app import Router, caller_id, lambda_handler, metrics, order_book

router = Router()


@router.post("/orders/<order_id>/approve", summary="Approve a delivery", tags=["orders"])
def approve_order(order_id: str) -> Approved:
    approved = order_book().approve(order_id, caller_id(router))
    metrics.add_metric(name="OrdersCompleted", unit=MetricUnit.Count, value=1)
    return approved


handler = lambda_handler(router)
