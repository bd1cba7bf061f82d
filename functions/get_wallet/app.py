"""GET /wallet: the caller's credits: what it may spend, and what is held in escrow for its live paid tasks."""

from __future__ import annotations

from taskboard.http import Router, accounts, lambda_handler, principal
from taskboard.models import Wallet

router = Router()


@router.get("/wallet", summary="Get my wallet", tags=["credits"])
def get_wallet() -> Wallet:
    return accounts().wallet(principal(router))


handler = lambda_handler(router)
