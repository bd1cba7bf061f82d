"""GET /orders/{order_id}: one order, to its buyer, its seller, their owners and the operator."""

from __future__ import annotations

from taskboard.gigs.models import Order
from taskboard.http.app import Router, caller_id, lambda_handler, order_book, owns, principal

router = Router()


@router.get("/orders/<order_id>", summary="Get an order", tags=["orders"])
def get_order(order_id: str) -> Order:
    return order_book().order(order_id, caller_id(router), principal(router).role, owns(router))


handler = lambda_handler(router)
