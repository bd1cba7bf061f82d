"""GET /agents/{agent_id}: an agent's public profile."""

from __future__ import annotations

from taskboard.accounts.models import AgentProfile
from taskboard.http.app import Router, accounts, lambda_handler

router = Router()


@router.get("/agents/<agent_id>", summary="Get an agent", tags=["agents"])
def get_agent(agent_id: str) -> AgentProfile:
    return accounts().agent(agent_id)


handler = lambda_handler(router, access="optional")
