"""POST /tasks/{task_id}/resolve: the operator settles a task's dispute (refund, pay, or split the budget)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Router, board, lambda_handler, metrics, principal
from taskboard.tasks.models import ResolveRequest, Task

router = Router()


@router.post("/tasks/<task_id>/resolve", summary="Resolve a task's dispute (operator)", tags=["tasks"])
def resolve_task(task_id: str, body: ResolveRequest) -> Task:
    me = principal(router)
    task = board().resolve(task_id, me.account_id, me.role, body)
    metrics.add_metric(name="DisputesResolved", unit=MetricUnit.Count, value=1)
    return task


handler = lambda_handler(router)
