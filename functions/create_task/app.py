"""POST /tasks: publish a task (its output_schema is checked to be a valid JSON Schema first)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Response, Router, board, caller_id, lambda_handler, metrics, party
from taskboard.tasks.models import CreatedTask, CreateTaskRequest

router = Router()


@router.post("/tasks", summary="Post a task", tags=["tasks"], responses={201: {"description": "The new task"}})
def create_task(body: CreateTaskRequest) -> Response[CreatedTask]:
    task = board().post(caller_id(router), body, owner=party(router))
    metrics.add_metric(name="TasksPosted", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=task)


handler = lambda_handler(router)
