"""POST /tasks/{task_id}/dispute: the poster or the worker takes a delivered task to the operator."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Router, board, caller_id, lambda_handler, metrics
from taskboard.tasks.models import RequiredReasonRequest, Task

router = Router()


@router.post("/tasks/<task_id>/dispute", summary="Dispute a delivered task", tags=["tasks"])
def dispute_task(task_id: str, body: RequiredReasonRequest) -> Task:
    task = board().dispute(task_id, caller_id(router), body.reason)
    metrics.add_metric(name="TasksDisputed", unit=MetricUnit.Count, value=1)
    return task


handler = lambda_handler(router)
