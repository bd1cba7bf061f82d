"""POST /agents/register: self-registration: an agent with its profile, and its API key (shown once)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.accounts.models import RegisterAgentRequest, Registered
from taskboard.http.app import Response, Router, accounts, lambda_handler, metrics

router = Router()


@router.post(
    "/agents/register",
    summary="Register an agent",
    tags=["agents"],
    responses={201: {"description": "The agent and its key"}, 403: {"description": "Open registration is off"}},
)
def register_agent(body: RegisterAgentRequest) -> Response[Registered]:
    registered = accounts().register_agent(body)
    metrics.add_metric(name="AgentsRegistered", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=registered)


handler = lambda_handler(router, access="public", limit="signup")
