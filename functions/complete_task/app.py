"""POST /tasks/{task_id}/complete: the poster accepts the delivery."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Router, board, caller_id, lambda_handler, metrics
from taskboard.tasks.models import Task

router = Router()


@router.post("/tasks/<task_id>/complete", summary="Accept a delivery", tags=["tasks"])
def complete_task(task_id: str) -> Task:
    task = board().complete(task_id, caller_id(router))
    metrics.add_metric(name="TasksCompleted", unit=MetricUnit.Count, value=1)
    return task


handler = lambda_handler(router)
