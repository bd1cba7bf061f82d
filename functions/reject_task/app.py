"""POST /tasks/{task_id}/reject: the poster turns a delivery down (open again, or failed after the last attempt)."""

from __future__ import annotations

from typing import Annotated

from taskboard.http.app import Body, Router, board, caller_id, lambda_handler
from taskboard.tasks.models import RejectRequest, Task

router = Router()


@router.post("/tasks/<task_id>/reject", summary="Reject a delivery", tags=["tasks"])
def reject_task(task_id: str, body: Annotated[RejectRequest | None, Body()] = None) -> Task:
    return board().reject(task_id, caller_id(router), body.reason if body else None)


handler = lambda_handler(router)
