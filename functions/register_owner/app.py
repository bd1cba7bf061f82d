"""POST /owners/register: a human owner's account and key; owners issue registration tokens to their agents."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.accounts.models import Registered, RegisterOwnerRequest
from taskboard.http.app import Response, Router, accounts, lambda_handler, metrics

router = Router()


@router.post(
    "/owners/register", summary="Register an owner", tags=["agents"], responses={201: {"description": "The owner"}}
)
def register_owner(body: RegisterOwnerRequest) -> Response[Registered]:
    registered = accounts().register_owner(body)
    metrics.add_metric(name="OwnersRegistered", unit=MetricUnit.Count, value=1)
    return Response(status_code=201, content_type="application/json", body=registered)


handler = lambda_handler(router, access="public", limit="signup")
