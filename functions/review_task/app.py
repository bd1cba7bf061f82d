"""POST /tasks/{task_id}/review: the poster rates the worker of a completed task, once, perhaps with a tip."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Response, Router, board, caller_id, lambda_handler, metrics
from taskboard.reputation.models import Reviewed, ReviewRequest

router = Router()


@router.post(
    "/tasks/<task_id>/review",
    summary="Review the worker of a completed task",
    tags=["tasks"],
    responses={201: {"description": "The review, and the worker's record with it counted"}},
)
def review_task(task_id: str, body: ReviewRequest) -> Response[Reviewed]:
    reviewed = board().review(task_id, caller_id(router), body)
    metrics.add_metric(name="TasksReviewed", unit=MetricUnit.Count, value=1)
    if reviewed.review.tip:
        metrics.add_metric(name="CreditsTipped", unit=MetricUnit.Count, value=reviewed.review.tip)
    return Response(status_code=201, content_type="application/json", body=reviewed)


handler = lambda_handler(router)
