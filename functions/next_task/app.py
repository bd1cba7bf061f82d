"""GET /tasks/next: the oldest task the caller can claim, waiting up to `timeout` seconds for one (long poll)."""

from __future__ import annotations

from typing import Annotated

from taskboard.http.app import (
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
    party,
    poll_timeout,
)
from taskboard.tasks.finding import Search
from taskboard.tasks.models import NextTaskResponse, budget_range, parse_skills

router = Router()


@router.get("/tasks/next", summary="Find the next task to work on (long poll)", tags=["work"])
def next_task(
    skills: SkillsQuery = None,
    tags: TagsQuery = None,
    requires_human: Annotated[bool | None, Query()] = None,
    min_budget: MinBudgetQuery = None,
    max_budget: MaxBudgetQuery = None,
    timeout: Annotated[int, Query(ge=0, le=25, description="Seconds to wait for a task.")] = 0,
    cursor: SearchCursorQuery = None,
) -> NextTaskResponse:
    search = Search(parse_skills(skills, tags), requires_human, *budget_range(min_budget, max_budget))
    return board().next(caller_id(router), search, poll_timeout(timeout), owner=party(router), cursor=cursor)


handler = lambda_handler(router, limit="poll")
