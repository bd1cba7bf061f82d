"""Credits that follow a task's state: escrow when it is posted with a budget, payout when it completes, refund
when it ends unpaid, and a tip with the poster's review (a payout and a tip both pay the platform's fee). Pure
rules (`movements`, `tip`) plus the transaction items that apply them (`Purse`), which also carry the
reputation counters the same change adds (a transaction may touch an item only once, so each account gets one
update with both).

Every movement is written in the same transaction as the state change that causes it, with its ledger entry.
An account whose balance moves is updated on the balance and the ledger count (`ledger_seq`) it was read at, and
each of its new entries is numbered on from that count: a retried, duplicated or raced change either writes
everything once or nothing (the task's own version condition is in the same transaction), and an account's
entries sort in the order its balance moved, so each `balance_after` follows from the one before. An account
whose escrow alone moves (a payout's poster) is not read at all: its escrow is added to, on the condition that
it holds what leaves it, so one poster's completions never race each other. The fees are spread over
Settings.fee_accounts accounts (taskboard.money.rules.fee_account), one drawn at random for each attempt, so
fees do not queue on one item.

No credit is ever created or destroyed: grants are the only source (taskboard.accounts.service caps them per owner), and
each movement moves an amount from one place (a balance, an escrow) to another. Credits move between accounts
only as a task's payout or a tip on its review, never between accounts of one owner (taskboard.tasks.lifecycle.claim
refuses such a claim, and only a task's worker is paid or tipped).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.core.errors import WriteConflict
from taskboard.money.rules import PLATFORM, Movement, PaymentRequired, earnings, fee_account
from taskboard.reputation.record import Counts, merge


@dataclass(frozen=True)
class Held:
    """An account's credits as read: its balance, escrow and ledger count, and whether the item has a balance
    and a count at all (an account that never held credits, like a fee account before its first fee, has
    neither; one whose ledger began before entries were counted has a balance and no count)."""

    balance: int = 0
    escrowed: int = 0
    seq: int = 0
    has_balance: bool = False
    has_seq: bool = False


@dataclass
class Tally:
    """What one change moves on one account: into its balance, into its escrow, and how many ledger entries."""

    amount: int = 0
    escrow: int = 0
    entries: int = 0


def tally(moves: Iterable[Movement]) -> dict[str, Tally]:
    """Each account's sum of `moves`, in the order the accounts first appear. A movement of the balance writes a
    ledger entry (the ledger explains balances; escrow is the sum of the live paid tasks)."""
    found: dict[str, Tally] = {}
    for move in moves:
        sums = found.setdefault(move.account, Tally())
        sums.amount += move.amount
        sums.escrow += move.escrow
        sums.entries += 1 if move.amount else 0
    return found


class Purse(TableAccess):
    """Turns movements into transaction items, reading first the accounts whose balance moves (one BatchGetItem)."""

    def __init__(
        self,
        table_name: str,
        fee_percent: int,
        dynamodb: Any = None,
        fee_accounts: int = 1,
        pick: Callable[[int], int] = random.randrange,  # spreads load, guards nothing: no secret needed
    ) -> None:
        super().__init__(table_name, dynamodb)
        self.fee_percent = fee_percent
        self.fee_accounts = fee_accounts
        self.pick = pick

    def actions(
        self, task_id: str, moves: Iterable[Movement], now: str, counts: Counts | None = None
    ) -> list[dict[str, Any]]:
        """The account updates and ledger entries for `moves`, with the reputation `counts` (and the `earned`
        the moves imply) added to the same updates. Raises PaymentRequired if a balance would go negative, and
        WriteConflict if the escrow read is already short of what leaves it (a racing change released it)."""
        moves = self._spread(list(moves))
        counts = merge(counts or {}, earnings(moves))
        if not moves and not counts:
            return []
        sums = tally(moves)
        ledgered = [account for account, moved in sums.items() if moved.entries]
        held = self._held(ledgered) if ledgered else {}
        for account in ledgered:
            _check(held[account], sums[account])
        accounts = [*sums, *(account for account in counts if account not in sums)]
        items = [
            self._update(account, sums.get(account), held.get(account), counts.get(account, {})) for account in accounts
        ]
        return items + self._entries(task_id, moves, held, now)

    def _spread(self, moves: list[Movement]) -> list[Movement]:
        """`moves` with the platform's side sent to one fee account, drawn afresh on every attempt: a change
        that lost a race on one fee account is most likely on another when it tries again."""
        if not any(move.account == PLATFORM for move in moves):
            return moves
        fees = fee_account(self.pick(self.fee_accounts))
        return [replace(move, account=fees) if move.account == PLATFORM else move for move in moves]

    def _update(self, account: str, moved: Tally | None, held: Held | None, counters: dict[str, int]) -> dict[str, Any]:
        """One account's update: its balance and ledger count set on the values read (`held`), its escrow added
        to on the condition that it holds what leaves it, its counters added to."""
        sets: list[str] = []
        adds: list[str] = []
        conditions: list[str] = []
        values: dict[str, Any] = {}
        if moved is not None and held is not None:  # the balance moves: exactly from what was read
            sets += ["balance = :balance", "ledger_seq = :seq"]
            values |= codec.values(balance=held.balance + moved.amount, seq=held.seq + moved.entries)
            conditions += [
                "balance = :old_balance" if held.has_balance else "attribute_not_exists(balance)",
                "ledger_seq = :old_seq" if held.has_seq else "attribute_not_exists(ledger_seq)",
            ]
            values |= codec.values(**({"old_balance": held.balance} if held.has_balance else {}))
            values |= codec.values(**({"old_seq": held.seq} if held.has_seq else {}))
        if moved is not None and moved.escrow:  # commutes with every other change of the escrow
            adds.append("escrowed :escrow")
            values |= codec.values(escrow=moved.escrow)
            if moved.escrow < 0:
                conditions.append("escrowed >= :needed")
                values |= codec.values(needed=-moved.escrow)
        added = [(name, amount) for name, amount in counters.items() if amount]
        adds += [f"{name} :c{index}" for index, (name, _) in enumerate(added)]
        values |= codec.values(**{f"c{index}": amount for index, (_, amount) in enumerate(added)})
        clauses = ([f"SET {', '.join(sets)}"] if sets else []) + ([f"ADD {', '.join(adds)}"] if adds else [])
        return {
            "Update": {
                "TableName": self.table,
                "Key": keys.account(account),
                "UpdateExpression": " ".join(clauses),
                # counters or escrow alone never make an account out of nothing
                "ConditionExpression": " AND ".join(conditions or ["attribute_exists(pk)"]),
                "ExpressionAttributeValues": values,
            }
        }

    def _entries(self, task_id: str, moves: list[Movement], held: dict[str, Held], now: str) -> list[dict[str, Any]]:
        """A ledger entry per movement of a balance, numbered on from the account's count as read."""
        running = {account: (read.balance, read.seq) for account, read in held.items()}
        items: list[dict[str, Any]] = []
        for move in moves:
            if not move.amount:
                continue
            balance, seq = running[move.account]
            running[move.account] = (balance + move.amount, seq + 1)
            entry_id = "led_" + uuid.uuid4().hex
            entry = {
                **keys.ledger_entry(move.account, seq + 1, entry_id),
                **codec.item(
                    id=entry_id,
                    type=move.kind,
                    amount=move.amount,
                    task_id=task_id,
                    balance_after=balance + move.amount,
                    created_at=now,
                ),
            }
            items.append({"Put": {"TableName": self.table, "Item": entry}})
        return items

    def _held(self, accounts: list[str]) -> dict[str, Held]:
        """Each account's credits and ledger count as read now (strongly consistent)."""
        found = {account: Held() for account in accounts}
        projection = "pk, balance, escrowed, ledger_seq"
        for item in self.batch_get(
            [keys.account(a) for a in accounts], ProjectionExpression=projection, ConsistentRead=True
        ):
            found[keys.account_id_of(item["pk"]["S"])] = Held(
                balance=codec.number(item, "balance"),
                escrowed=codec.number(item, "escrowed"),
                seq=codec.number(item, "ledger_seq"),
                has_balance="balance" in item,
                has_seq="ledger_seq" in item,
            )
        return found


def _check(held: Held, moved: Tally) -> None:
    """Raises PaymentRequired if the balance read cannot pay what leaves it, WriteConflict if the escrow read
    cannot: escrow leaves only what entered it, so the task was read before a racing change released its escrow
    (that change moved the task's version on: reading both again settles it)."""
    balance = held.balance + moved.amount
    if balance < 0:
        needed = held.balance - balance
        raise PaymentRequired(
            f"This needs {needed} credits and the balance holds {held.balance}.",
            balance=held.balance,
            needed=needed,
            shortfall=needed - held.balance,
        )
    if held.escrowed + moved.escrow < 0:
        raise WriteConflict()
