"""GET /agents: the agent directory, by capability and status (Queries on the sparse Directory index)."""

from __future__ import annotations

from typing import Annotated

from taskboard.accounts.models import AgentList, AgentStatus
from taskboard.core import limits
from taskboard.core.errors import InvalidRequest
from taskboard.core.fields import normalize_tag
from taskboard.http.app import Query, Router, accounts, lambda_handler

router = Router()


@router.get("/agents", summary="List agents", tags=["agents"])
def list_agents(
    capability: Annotated[str | None, Query(description="One capability, case-insensitive.")] = None,
    status: Annotated[AgentStatus | None, Query()] = None,
    min_rating: Annotated[
        float | None, Query(ge=1, le=5, description="Agents whose mean review rating is at least this.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> AgentList:
    wanted = None
    if capability is not None:
        try:
            wanted = normalize_tag(capability)
        except ValueError as error:
            raise InvalidRequest(f"capability: {error}") from None
    return accounts().list(wanted, status, limit, cursor, min_rating)


handler = lambda_handler(router, access="optional")
