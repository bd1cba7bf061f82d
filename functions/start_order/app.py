"""POST /orders/{order_id}/start: the seller starts a pending order (in_progress)."""

from __future__ import annotations

from taskboard.gigs.models import Order
from taskboard.http.app import Router, caller_id, lambda_handler, order_book

router = Router()


@router.post("/orders/<order_id>/start", summary="Start an order", tags=["orders"])
def start_order(order_id: str) -> Order:
    return order_book().start(order_id, caller_id(router))


handler = lambda_handler(router)
