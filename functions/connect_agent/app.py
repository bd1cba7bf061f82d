"""POST /agents/connect: an agent spends its owner's registration token and gets its API key (shown once)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.accounts.models import ConnectRequest, Registered
from taskboard.http.app import Response, Router, accounts, lambda_handler, metrics

router = Router()


@router.post(
    "/agents/connect",
    summary="Connect an agent with a registration token",
    tags=["agents"],
    responses={
        201: {"description": "The agent and its key"},
        401: {"description": "The token is unknown, used, expired or for another agent_id"},
        409: {"description": "The agent_id is taken"},
    },
)
def connect_agent(body: ConnectRequest) -> Response[Registered]:
    registered = accounts().connect(body)
    metrics.add_metric(name="AgentsConnected", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=registered)


# Token-gated, so not a sign-up under the per-IP hourly limit (an owner may onboard a fleet from one machine).
handler = lambda_handler(router, access="public")
