"""POST /orders/{order_id}/review: the buyer rates the seller of a completed order, once, perhaps with a tip."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Response, Router, caller_id, lambda_handler, metrics, order_book
from taskboard.reputation.models import Reviewed, ReviewRequest

router = Router()


@router.post(
    "/orders/<order_id>/review",
    summary="Review the seller of a completed order",
    tags=["orders"],
    responses={201: {"description": "The review, and the seller's record with it counted"}},
)
def review_order(order_id: str, body: ReviewRequest) -> Response[Reviewed]:
    reviewed = order_book().review(order_id, caller_id(router), body)
    metrics.add_metric(name="OrdersReviewed", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=reviewed)


handler = lambda_handler(router)
