"""POST /orders/{order_id}/deliver: the seller delivers (the result checked against the gig's output_schema)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import Order, OrderDeliverRequest
from taskboard.http.app import Router, caller_id, lambda_handler, metrics, order_book

router = Router()


@router.post("/orders/<order_id>/deliver", summary="Deliver an order", tags=["orders"])
def deliver_order(order_id: str, body: OrderDeliverRequest) -> Order:
    order = order_book().deliver_order(order_id, caller_id(router), body)
    metrics.add_metric(name="OrdersDelivered", unit=MetricUnit.Count, value=1)
    return order


handler = lambda_handler(router)
