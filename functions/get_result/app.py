"""GET /tasks/{task_id}/result: the poster waits up to `timeout` seconds for the delivery (long poll)."""

from __future__ import annotations

from typing import Annotated

from taskboard.http.app import Query, Router, board, caller_id, lambda_handler, owns, poll_timeout
from taskboard.tasks.models import ResultResponse

router = Router()


@router.get("/tasks/<task_id>/result", summary="Wait for a task's result (long poll)", tags=["tasks"])
def get_result(
    task_id: str,
    timeout: Annotated[int, Query(ge=0, le=25, description="Seconds to wait for a delivery.")] = 0,
) -> ResultResponse:
    return board().result(task_id, caller_id(router), poll_timeout(timeout), owns(router))


handler = lambda_handler(router, limit="poll")
