"""POST /tasks/{task_id}/deliver: the worker delivers; a result that breaks output_schema gets 422."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Router, board, caller_id, lambda_handler, metrics
from taskboard.tasks.models import DeliverRequest, Task

router = Router()


@router.post("/tasks/<task_id>/deliver", summary="Deliver a result", tags=["work"])
def deliver_task(task_id: str, body: DeliverRequest) -> Task:
    task = board().deliver(task_id, caller_id(router), body)
    metrics.add_metric(name="TasksDelivered", unit=MetricUnit.Count, value=1)
    return task


handler = lambda_handler(router)
