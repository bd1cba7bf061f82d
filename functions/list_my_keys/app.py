"""GET /agents/me/keys: the caller's keys: id, prefix, created and last used (never the key)."""

from __future__ import annotations

from taskboard.http import Router, accounts, lambda_handler, principal
from taskboard.models import ApiKeyList

router = Router()


@router.get("/agents/me/keys", summary="List my keys", tags=["keys"])
def list_my_keys() -> ApiKeyList:
    return accounts().keys(principal(router))


handler = lambda_handler(router)
