"""POST /orders: order a gig; its price is escrowed from the buyer's balance and its seller told."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.gigs.models import CreateOrderRequest, Order
from taskboard.http.app import Response, Router, caller_id, lambda_handler, metrics, order_book, party

router = Router()


@router.post("/orders", summary="Order a gig", tags=["orders"], responses={201: {"description": "The new order"}})
def create_order(body: CreateOrderRequest) -> Response[Order]:
    order = order_book().place(caller_id(router), body, owner=party(router))
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=order)


handler = lambda_handler(router)
