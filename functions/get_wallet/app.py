"""GET /wallet: the caller's credits: what it may spend, and what is held in escrow for its live paid tasks."""

from __future__ import annotations

from taskboard.http.app import Router, lambda_handler, principal
from taskboard.money.models import Wallet
from taskboard.runtime import ledgers

router = Router()


@router.get("/wallet", summary="Get my wallet", tags=["credits"])
def get_wallet() -> Wallet:
    return ledgers().wallet(principal(router).account_id)


handler = lambda_handler(router)
