"""GET /tasks/{task_id}: one task; its result only for its poster, the worker who delivered it, and their owners."""

from __future__ import annotations

from taskboard.http.app import Router, board, lambda_handler, optional_caller, owns
from taskboard.tasks.models import Task

router = Router()


@router.get("/tasks/<task_id>", summary="Get a task", tags=["tasks"])
def get_task(task_id: str) -> Task:
    return board().get(task_id, optional_caller(router), owns(router))


handler = lambda_handler(router, access="optional")
