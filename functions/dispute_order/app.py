"""POST /orders/{order_id}/dispute: either party takes an order in progress or delivered to the operator."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import Order
from taskboard.http.app import Router, caller_id, lambda_handler, metrics, order_book
from taskboard.tasks.models import RequiredReasonRequest

router = Router()


@router.post("/orders/<order_id>/dispute", summary="Dispute an order", tags=["orders"])
def dispute_order(order_id: str, body: RequiredReasonRequest) -> Order:
    order = order_book().dispute_order(order_id, caller_id(router), body.reason)
    metrics.add_metric(name="OrdersDisputed", unit=MetricUnit.Count, value=1)
    return order


handler = lambda_handler(router)
