"""POST /tasks/{task_id}/claim: claim an open task; of any number of racing claimers exactly one wins."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import Body, Router, board, caller_id, lambda_handler, metrics, party
from taskboard.tasks.models import ClaimRequest, Task

router = Router()


@router.post("/tasks/<task_id>/claim", summary="Claim a task", tags=["work"])
def claim_task(task_id: str, body: Annotated[ClaimRequest | None, Body()] = None) -> Task:
    task = board().claim(task_id, caller_id(router), body.agent_id if body else None, owner=party(router))
    metrics.add_metric(name="TasksClaimed", unit=MetricUnit.Count, value=1)
    return task


handler = lambda_handler(router)
