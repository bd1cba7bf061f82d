"""GET /tasks: browse tasks by status and skills, a page at a time (Queries on sparse indexes; never a Scan)."""

from __future__ import annotations

from typing import Annotated, Literal

from taskboard.core import limits
from taskboard.http.app import (
    MaxBudgetQuery,
    MinBudgetQuery,
    Query,
    Router,
    SkillsQuery,
    TagsQuery,
    board,
    lambda_handler,
)
from taskboard.tasks.models import TaskList, budget_range, parse_skills

router = Router()

BrowseStatus = Literal["open", "claimed", "delivered", "completed", "failed", "cancelled", "disputed", "all"]


@router.get("/tasks", summary="List tasks", tags=["tasks"])
def list_tasks(
    status: Annotated[
        BrowseStatus, Query(description="Which tasks; open ones oldest first, the rest newest first.")
    ] = "open",
    skills: SkillsQuery = None,
    tags: TagsQuery = None,
    requires_human: Annotated[bool | None, Query()] = None,
    min_budget: MinBudgetQuery = None,
    max_budget: MaxBudgetQuery = None,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> TaskList:
    budget = budget_range(min_budget, max_budget)
    return board().browse(status, parse_skills(skills, tags), limit, cursor, requires_human, budget)


handler = lambda_handler(router, access="optional")
