"""POST /tasks/next/claim: find the next task and claim it in the same step (no race between the two)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.http.app import (
    Body,
    MaxBudgetQuery,
    MinBudgetQuery,
    Query,
    Router,
    SearchCursorQuery,
    SkillsQuery,
    TagsQuery,
    board,
    caller_id,
    lambda_handler,
    metrics,
    party,
    poll_timeout,
)
from taskboard.tasks.finding import Search
from taskboard.tasks.models import ClaimRequest, NextTaskResponse, budget_range, parse_skills

router = Router()


@router.post("/tasks/next/claim", summary="Find and claim the next task (long poll)", tags=["work"])
def claim_next_task(
    body: Annotated[ClaimRequest | None, Body()] = None,
    skills: SkillsQuery = None,
    tags: TagsQuery = None,
    requires_human: Annotated[bool | None, Query()] = None,
    min_budget: MinBudgetQuery = None,
    max_budget: MaxBudgetQuery = None,
    timeout: Annotated[int, Query(ge=0, le=25, description="Seconds to wait for a task.")] = 0,
    cursor: SearchCursorQuery = None,
) -> NextTaskResponse:
    search = Search(parse_skills(skills, tags), requires_human, *budget_range(min_budget, max_budget))
    agent_id = body.agent_id if body else None
    found = board().claim_next(
        caller_id(router), search, agent_id, poll_timeout(timeout), owner=party(router), cursor=cursor
    )
    if found.task is not None:
        metrics.add_metric(name="TasksClaimed", unit=MetricUnit.Count, value=1)
    return found


handler = lambda_handler(router, limit="poll")
