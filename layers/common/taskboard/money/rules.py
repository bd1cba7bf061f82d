"""Credits' pure rules: what a fee is, what a tip moves, what movements add to earnings. No I/O.

A movement moves an amount from one place (a balance, an escrow) to another; no credit is created or destroyed
(grants are the only source: taskboard.accounts caps them per owner)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from taskboard.core.errors import BoardError
from taskboard.reputation.record import Counts, merge

# The platform's fees, spread over N accounts so that no one item takes every fee (Settings.fee_accounts): shard 0
# is `platform` (the one account that took every fee before there were shards), shard k is `platform.<k>`. The
# rules name the platform's side PLATFORM; the writer (taskboard.money.purse) draws the shard of each attempt.
# No agent can own any of them: `platform` is a reserved agent_id and an agent_id has no dot.
PLATFORM = "platform"
_FEE_ACCOUNT = re.compile(r"platform(\.[1-9][0-9]*)?")


class PaymentRequired(BoardError):
    status, code = 402, "insufficient_credits"


@dataclass(frozen=True)
class Movement:
    """`amount` credits into `account`'s balance (negative: out of it) and `escrow` into its escrow."""

    account: str
    kind: str  # the ledger entry type: escrow, payout, fee, refund
    amount: int
    escrow: int = 0


def fee_account(shard: int) -> str:
    """The id of fee account `shard` (0: `platform`, k: `platform.<k>`)."""
    return PLATFORM if shard == 0 else f"{PLATFORM}.{shard}"


def fee_accounts(count: int) -> list[str]:
    """The ids of the first `count` fee accounts, where the platform's credits are (summed when read)."""
    return [fee_account(shard) for shard in range(count)]


def is_fee_account(account_id: str) -> bool:
    """Whether `account_id` is one of the platform's fee accounts (any shard)."""
    return _FEE_ACCOUNT.fullmatch(account_id) is not None


def fee_of(budget: int, percent: int) -> int:
    """The platform's fee: `percent` of the budget, rounded down (budget 25 at 10%: fee 2, the worker gets 23)."""
    return budget * percent // 100


def tip(poster: str, worker: str, amount: int, fee_percent: int) -> list[Movement]:
    """A tip with a review: `amount` from the poster's balance, the worker gets it minus the platform's fee
    (`fee_of`, as on a budget: a tip of 25 at 10% pays the worker 23 and the platform 2). All three entries are
    of type `tip`. A tip pays the fee so that it is no cheaper a way to move credits to another account than a
    task's budget: there is no free channel to funnel credits through."""
    if amount <= 0:
        return []
    fee = fee_of(amount, fee_percent)
    moves = [Movement(poster, "tip", -amount), Movement(worker, "tip", amount - fee)]
    return moves + ([Movement(PLATFORM, "tip", fee)] if fee else [])


def earnings(moves: Iterable[Movement]) -> Counts:
    """What the movements add to each worker's `earned`: payouts and tips received (the platform's share of a
    tip is a fee, not earnings)."""
    return merge(
        *(
            {move.account: {"earned": move.amount}}
            for move in moves
            if move.kind in _EARNED and move.amount > 0 and not is_fee_account(move.account)
        )
    )


_EARNED = frozenset({"payout", "tip"})
