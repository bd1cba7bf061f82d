"""POST /orders/{order_id}/resolve: the operator settles a dispute (refund, pay, or split the escrow)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import Order
from taskboard.http.app import Router, lambda_handler, metrics, order_book, principal
from taskboard.tasks.models import ResolveRequest

router = Router()


@router.post("/orders/<order_id>/resolve", summary="Resolve a dispute (operator)", tags=["orders"])
def resolve_order(order_id: str, body: ResolveRequest) -> Order:
    me = principal(router)
    order = order_book().resolve_order(order_id, me.account_id, me.role, body)
    metrics.add_metric(name="DisputesResolved", unit=MetricUnit.Count, value=1)
    return order


handler = lambda_handler(router)
