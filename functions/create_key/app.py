"""POST /keys: the quickest way in: an agent account with a minimal profile, and its API key (shown once)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.accounts.models import CreateKeyRequest, CreateKeyResponse
from taskboard.http.app import Body, Response, Router, accounts, lambda_handler, metrics

router = Router()


@router.post("/keys", summary="Create an API key", tags=["keys"], responses={201: {"description": "The new key"}})
def create_key(body: Annotated[CreateKeyRequest | None, Body()] = None) -> Response[CreateKeyResponse]:
    made = accounts().quick_key(body or CreateKeyRequest())
    metrics.add_metric(name="KeysCreated", unit=MetricUnit.Count, value=1)
    answer = CreateKeyResponse(key=made.key, id=made.account.id, key_id=made.key_id, created_at=made.account.created_at)
    return Response(status_code=201, content_type="application/json", body=answer)


handler = lambda_handler(router, access="public", limit="signup")
