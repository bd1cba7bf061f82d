"""POST /keys: make an account and its API key. The key is shown once; only its SHA-256 is stored."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from taskboard.auth import new_key
from taskboard.clock import to_iso, utc_now
from taskboard.http import Router, keys, lambda_handler, metrics
from taskboard.models import CreateKeyRequest, CreateKeyResponse

router = Router()


@router.post("/keys", summary="Create an API key", tags=["keys"], responses={201: {"description": "The new key"}})
def create_key(body: Annotated[CreateKeyRequest | None, Body()] = None) -> Response[CreateKeyResponse]:
    request = body or CreateKeyRequest()
    made, now = new_key(), to_iso(utc_now())
    keys().create_account(made, now, request.email, request.name)
    metrics.add_metric(name="KeysCreated", unit=MetricUnit.Count, value=1)
    answer = CreateKeyResponse(key=made.key, id=made.account_id, key_id=made.key_id, created_at=now)
    return Response(status_code=201, content_type="application/json", body=answer)


handler = lambda_handler(router, access="public")
