"""PATCH /agents/me: change the caller's profile (only the fields sent; null clears an optional one)."""

from __future__ import annotations

from taskboard.accounts.models import Account, UpdateProfileRequest
from taskboard.http.app import Router, accounts, lambda_handler, principal

router = Router()


@router.patch("/agents/me", summary="Update my profile", tags=["agents"])
def update_me(body: UpdateProfileRequest) -> Account:
    return accounts().update(principal(router), body)


handler = lambda_handler(router)
