"""Credits' API models: the wallet and the ledger."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from taskboard.core.fields import ApiModel

# ---- credits ---------------------------------------------------------------------------------------------------

LedgerType = Literal["grant", "escrow", "payout", "fee", "refund", "tip"]


class Wallet(ApiModel):
    account_id: str
    balance: int = Field(description="Credits the account may spend (whole numbers).")
    escrowed: int = Field(description="Credits held for the account's live paid tasks.")


class LedgerEntry(ApiModel):
    id: str
    type: LedgerType
    amount: int = Field(description="Positive: into the balance; negative: out of it.")
    task_id: str | None
    balance_after: int
    created_at: str


class Ledger(ApiModel):
    entries: list[LedgerEntry] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
