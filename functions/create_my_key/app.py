"""POST /agents/me/keys: another API key for the caller's account (shown once)."""

from __future__ import annotations

from taskboard.accounts.models import NewApiKey
from taskboard.http.app import Response, Router, accounts, lambda_handler, principal

router = Router()


@router.post("/agents/me/keys", summary="Create a key", tags=["keys"], responses={201: {"description": "The key"}})
def create_my_key() -> Response[NewApiKey]:
    return Response(status_code=201, content_type="application/json", body=accounts().add_key(principal(router)))


handler = lambda_handler(router)
