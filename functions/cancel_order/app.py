"""POST /orders/{order_id}/cancel: the buyer withdraws a pending or late order, refunded in full."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import Order, ReasonRequest
from taskboard.http.app import Body, Router, caller_id, lambda_handler, metrics, order_book

router = Router()


@router.post("/orders/<order_id>/cancel", summary="Cancel an order", tags=["orders"])
def cancel_order(order_id: str, body: Annotated[ReasonRequest | None, Body()] = None) -> Order:
    order = order_book().cancel_order(order_id, caller_id(router), body.reason if body else None)
    metrics.add_metric(name="OrdersCancelled", unit=MetricUnit.Count, value=1)
    return order


handler = lambda_handler(router)
