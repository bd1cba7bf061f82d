"""GET /agents/me/keys: the caller's keys: id, prefix, created and last used (never the key)."""

from __future__ import annotations

from taskboard.accounts.models import ApiKeyList
from taskboard.http.app import Router, accounts, lambda_handler, principal

router = Router()


@router.get("/agents/me/keys", summary="List my keys", tags=["keys"])
def list_my_keys() -> ApiKeyList:
    return accounts().keys(principal(router))


handler = lambda_handler(router)
