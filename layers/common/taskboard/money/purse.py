"""Credits that follow a task's state: escrow when it is posted with a budget, payout when it completes, refund
when it ends unpaid, and a tip with the poster's review (a payout and a tip both pay the platform's fee). Pure
rules (`movements`, `tip`) plus the transaction items that apply them (`Purse`), which also carry the
reputation counters the same change adds (a transaction may touch an item only once, so each account gets one
update with both).

Every movement is written in the same transaction as the state change that causes it, with its ledger entry,
and each account update is conditioned on the balance it was computed from: a retried, duplicated or raced
change either writes everything once or nothing (the task's own version condition is in the same transaction).
No credit is ever created or destroyed: grants are the only source (taskboard.accounts.service caps them per owner), and
each movement moves an amount from one place (a balance, an escrow) to another. Credits move between accounts
only as a task's payout or a tip on its review, never between accounts of one owner (taskboard.tasks.lifecycle.claim
refuses such a claim, and only a task's worker is paid or tipped).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.core.errors import WriteConflict
from taskboard.money.rules import Movement, PaymentRequired, earnings
from taskboard.reputation.record import Counts, merge


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
                values |= codec.values(balance=balance, escrow=escrow, old_balance=old_balance, old_escrow=old_escrow)
            else:
                condition = "attribute_exists(pk)"  # counters only: never make an account out of nothing
            adds = [(name, amount) for name, amount in counts.get(account, {}).items() if amount]
            values |= codec.values(**{f"c{index}": amount for index, (_, amount) in enumerate(adds)})
            add = ("ADD " + ", ".join(f"{name} :c{index}" for index, (name, _) in enumerate(adds))) if adds else ""
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": keys.account(account),
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
            **keys.in_account(move.account, f"LEDGER#{now}#{entry_id}"),
            **codec.item(
                id=entry_id,
                type=move.kind,
                amount=move.amount,
                task_id=task_id,
                balance_after=running[move.account][0],
                created_at=now,
            ),
        }

    def _balances(self, accounts: list[str]) -> tuple[dict[str, tuple[int, int]], set[str]]:
        """Each account's (balance, escrowed), and which accounts have no balance attribute yet."""
        lookups = [keys.account(account) for account in accounts]
        found: dict[str, tuple[int, int]] = {account: (0, 0) for account in accounts}
        missing = set(accounts)
        for item in self.batch_get(lookups, ProjectionExpression="pk, balance, escrowed", ConsistentRead=True):
            account = keys.account_id_of(item["pk"]["S"])
            if "balance" in item:
                missing.discard(account)
            found[account] = (int(item.get("balance", {}).get("N", "0")), int(item.get("escrowed", {}).get("N", "0")))
        return found, missing
