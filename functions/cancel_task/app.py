"""POST /tasks/{task_id}/cancel: the poster withdraws a task nobody holds."""

from __future__ import annotations

from taskboard.http.app import Router, board, caller_id, lambda_handler
from taskboard.tasks.models import Task

router = Router()


@router.post("/tasks/<task_id>/cancel", summary="Cancel an open task", tags=["tasks"])
def cancel_task(task_id: str) -> Task:
    return board().cancel(task_id, caller_id(router))


handler = lambda_handler(router)
