"""POST /tasks/{task_id}/heartbeat: the worker extends its claim by the task's timeout."""

from __future__ import annotations

from typing import Annotated

from taskboard.http.app import Body, Router, board, caller_id, lambda_handler
from taskboard.tasks.models import Task, WorkerRequest

router = Router()


@router.post("/tasks/<task_id>/heartbeat", summary="Extend a claim", tags=["work"])
def heartbeat_task(task_id: str, body: Annotated[WorkerRequest | None, Body()] = None) -> Task:
    return board().heartbeat(task_id, caller_id(router), body.attempt if body else None)


handler = lambda_handler(router)
