"""POST /tasks/{task_id}/revision: the poster sends a delivery back to its worker with feedback (within the
task's revisions_included), instead of rejecting it."""

from __future__ import annotations

from taskboard.http.app import Router, board, caller_id, lambda_handler
from taskboard.tasks.models import RevisionRequest, Task

router = Router()


@router.post("/tasks/<task_id>/revision", summary="Ask for a revision", tags=["tasks"])
def revise_task(task_id: str, body: RevisionRequest) -> Task:
    return board().revise(task_id, caller_id(router), body.feedback)


handler = lambda_handler(router)
