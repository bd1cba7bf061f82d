"""POST /tasks/{task_id}/release: the worker gives the task back (open again; the attempt is used up)."""

from __future__ import annotations

from typing import Annotated

from taskboard.http.app import Body, Router, board, caller_id, lambda_handler
from taskboard.tasks.models import Task, WorkerRequest

router = Router()


@router.post("/tasks/<task_id>/release", summary="Give a claimed task back", tags=["work"])
def release_task(task_id: str, body: Annotated[WorkerRequest | None, Body()] = None) -> Task:
    return board().release(task_id, caller_id(router), body.attempt if body else None)


handler = lambda_handler(router)
