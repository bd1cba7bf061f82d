"""Credits that follow a task's state: escrow when it is posted with a budget, payout when it completes, refund
when it ends unpaid, and a tip with the poster's review (a payout and a tip both pay the platform's fee). Pure
rules (`movements`, `tip`) plus the transaction items that apply them (`Purse`), which also carry the
reputation counters the same change adds (a transaction may touch an item only once, so each account gets one
update with both).

Every movement is written in the same transaction as the state change that causes it, with its ledger entry,
and each account update is conditioned on the balance it was computed from: a retried, duplicated or raced
change either writes everything once or nothing (the task's own version condition is in the same transaction).
No credit is ever created or destroyed: grants are the only source (taskboard.accounts caps them per owner), and
each movement moves an amount from one place (a balance, an escrow) to another. Credits move between accounts
only as a task's payout or a tip on its review, never between accounts of one owner (taskboard.lifecycle.claim
refuses such a claim, and only a task's worker is paid or tipped).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from taskboard.aws import TableAccess
from taskboard.errors import BoardError
from taskboard.lifecycle import Status, TaskState
from taskboard.repository import WriteConflict
from taskboard.reputation import Counts, merge

PLATFORM = "platform"  # the account that collects fees (a reserved agent_id)


class PaymentRequired(BoardError):
    status, code = 402, "insufficient_credits"


@dataclass(frozen=True)
class Movement:
    """`amount` credits into `account`'s balance (negative: out of it) and `escrow` into its escrow."""

    account: str
    kind: str  # the ledger entry type: escrow, payout, fee, refund
    amount: int
    escrow: int = 0


def fee_of(budget: int, percent: int) -> int:
    """The platform's fee: `percent` of the budget, rounded down (budget 25 at 10%: fee 2, the worker gets 23)."""
    return budget * percent // 100


def movements(before: TaskState | None, after: TaskState, fee_percent: int) -> list[Movement]:
    """What a change of a task's state moves. Only the first arrival in a final status moves anything."""
    budget = after.budget
    if budget <= 0:
        return []
    if before is None:
        return [Movement(after.poster_id, "escrow", -budget, +budget)]
    if before.status is after.status:
        return []
    if after.status is Status.COMPLETED and after.claimed_by:
        fee = fee_of(budget, fee_percent)
        paid = [Movement(after.poster_id, "payout", 0, -budget), Movement(after.claimed_by, "payout", budget - fee)]
        return paid + ([Movement(PLATFORM, "fee", fee)] if fee else [])
    if after.status in (Status.CANCELLED, Status.FAILED):
        return [Movement(after.poster_id, "refund", +budget, -budget)]
    return []


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
            if move.kind in _EARNED and move.amount > 0 and move.account != PLATFORM
        )
    )


_EARNED = frozenset({"payout", "tip"})


class Purse(TableAccess):
    """Turns movements into transaction items, reading each account's balance first (one BatchGetItem)."""

    def __init__(self, table_name: str, fee_percent: int, dynamodb: Any = None) -> None:
        super().__init__(table_name, dynamodb)
        self.fee_percent = fee_percent

    def actions(
        self, task_id: str, moves: Iterable[Movement], now: str, counts: Counts | None = None
    ) -> list[dict[str, Any]]:
        """The account updates and ledger entries for `moves`, with the reputation `counts` (and the `earned`
        the moves imply) added to the same updates. Raises PaymentRequired if a balance would go negative."""
        moves = list(moves)
        counts = merge(counts or {}, earnings(moves))
        if not moves and not counts:
            return []
        accounts = list(dict.fromkeys(move.account for move in moves))
        read, missing = self._balances(accounts) if accounts else ({}, set())
        totals: dict[str, tuple[int, int]] = {}
        for move in moves:
            balance, escrow = totals.get(move.account, read[move.account])
            totals[move.account] = (balance + move.amount, escrow + move.escrow)
        for account, (balance, escrow) in totals.items():
            if balance < 0:
                held = read[account][0]
                needed = held - balance
                raise PaymentRequired(
                    f"This needs {needed} credits and the balance holds {held}.",
                    balance=held,
                    needed=needed,
                    shortfall=needed - held,
                )
            if escrow < 0:
                # escrow leaves only what entered it: the task was read before a racing change released its
                # escrow, and the balances after. Read both again (that change's version moved the task on).
                raise WriteConflict()
        items: list[dict[str, Any]] = []
        for account in [*accounts, *(account for account in counts if account not in totals)]:
            values: dict[str, Any] = {}
            sets = ""
            if account in totals:
                (old_balance, old_escrow), (balance, escrow) = read[account], totals[account]
                # an account that never held credits (the platform's, before its first fee) has no balance yet
                condition = (
                    "attribute_not_exists(balance) AND :old_balance = :old_escrow"
                    if account in missing
                    else "balance = :old_balance AND escrowed = :old_escrow"
                )
                sets = "SET balance = :balance, escrowed = :escrow"
                values |= {
                    ":balance": {"N": str(balance)},
                    ":escrow": {"N": str(escrow)},
                    ":old_balance": {"N": str(old_balance)},
                    ":old_escrow": {"N": str(old_escrow)},
                }
            else:
                condition = "attribute_exists(pk)"  # counters only: never make an account out of nothing
            adds = [(name, amount) for name, amount in counts.get(account, {}).items() if amount]
            values |= {f":c{index}": {"N": str(amount)} for index, (_, amount) in enumerate(adds)}
            add = ("ADD " + ", ".join(f"{name} :c{index}" for index, (name, _) in enumerate(adds))) if adds else ""
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"pk": {"S": f"ACCOUNT#{account}"}, "sk": {"S": "ACCOUNT"}},
                        "UpdateExpression": f"{sets} {add}".strip(),
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        running = dict(read)
        for move in moves:
            balance, escrow = running[move.account]
            running[move.account] = (balance + move.amount, escrow + move.escrow)
            if move.amount:  # the ledger explains balances; escrow is the sum of the live paid tasks
                items.append({"Put": {"TableName": self.table, "Item": self._entry(task_id, move, running, now)}})
        return items

    def _entry(self, task_id: str, move: Movement, running: dict[str, tuple[int, int]], now: str) -> dict[str, Any]:
        entry_id = "led_" + uuid.uuid4().hex
        return {
            "pk": {"S": f"ACCOUNT#{move.account}"},
            "sk": {"S": f"LEDGER#{now}#{entry_id}"},
            "id": {"S": entry_id},
            "type": {"S": move.kind},
            "amount": {"N": str(move.amount)},
            "task_id": {"S": task_id},
            "balance_after": {"N": str(running[move.account][0])},
            "created_at": {"S": now},
        }

    def _balances(self, accounts: list[str]) -> tuple[dict[str, tuple[int, int]], set[str]]:
        """Each account's (balance, escrowed), and which accounts have no balance attribute yet."""
        keys = [{"pk": {"S": f"ACCOUNT#{account}"}, "sk": {"S": "ACCOUNT"}} for account in accounts]
        found: dict[str, tuple[int, int]] = {account: (0, 0) for account in accounts}
        missing = set(accounts)
        for item in self.batch_get(keys, ProjectionExpression="pk, balance, escrowed", ConsistentRead=True):
            account = item["pk"]["S"].removeprefix("ACCOUNT#")
            if "balance" in item:
                missing.discard(account)
            found[account] = (int(item.get("balance", {}).get("N", "0")), int(item.get("escrowed", {}).get("N", "0")))
        return found, missing
