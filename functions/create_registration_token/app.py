"""POST /agents/register-token: an owner issues a single-use, expiring token for one agent_id."""

from __future__ import annotations

from taskboard.accounts.models import RegistrationToken, RegistrationTokenRequest
from taskboard.http.app import Response, Router, accounts, lambda_handler, principal

router = Router()


@router.post(
    "/agents/register-token",
    summary="Issue a registration token",
    tags=["agents"],
    responses={201: {"description": "The token (shown once)"}, 403: {"description": "Not an owner"}},
)
def create_registration_token(body: RegistrationTokenRequest) -> Response[RegistrationToken]:
    token = accounts().issue_token(principal(router), body)
    return Response(status_code=201, content_type="application/json", body=token)


handler = lambda_handler(router)
