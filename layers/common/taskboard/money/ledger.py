"""Reading credits: an account's wallet (balance and escrow on its ACCOUNT item) and its ledger entries
(ACCOUNT#<id> / LEDGER#s<seq>#<entry id>, newest first: core.keys.ledger_entry). taskboard.money.purse writes
both. Entries written before they were numbered, LEDGER#<time>#<entry id>, are read the same and sort first."""

from __future__ import annotations

import re

from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.core.pagination import decode_cursor, encode_cursor
from taskboard.money.models import Ledger, LedgerEntry, Wallet

# A cursor is an entry's sort key: numbered (s + 12 digits) or, for entries from before the numbering, timed
LEDGER_KEY = re.compile(r"^LEDGER#(s\d{12}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)#led_[0-9a-f]{32}$")


class Ledgers(TableAccess):
    def wallet(self, account_id: str) -> Wallet:
        """The account's balance and escrow: one strongly consistent GetItem."""
        response = self.db.get_item(TableName=self.table, Key=keys.account(account_id), ConsistentRead=True)
        item = response.get("Item") or {}
        return Wallet(
            account_id=account_id, balance=codec.number(item, "balance"), escrowed=codec.number(item, "escrowed")
        )

    def page(self, account_id: str, limit: int, cursor: str | None) -> Ledger:
        """A page of the account's ledger, newest first, after `cursor` (a previous page's next_cursor)."""
        entries, last = self.entries(account_id, limit, decode_cursor(cursor, LEDGER_KEY))
        return Ledger(entries=entries, next_cursor=encode_cursor(last) if last else None)

    def entries(self, account_id: str, limit: int, before: str | None) -> tuple[list[LedgerEntry], str | None]:
        """An account's ledger entries, newest first, older than the sort key `before`."""
        condition = "pk = :pk AND sk BETWEEN :low AND :high"
        low, high = keys.LEDGER_PREFIX, before or f"{keys.LEDGER_PREFIX}~"  # "~" sorts after every entry
        values = codec.values(pk=keys.account_pk(account_id), low=low, high=high)
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            # one more than a page, to know whether there is a next one; and `before` itself (BETWEEN includes it)
            Limit=limit + 1 + (1 if before else 0),
            ConsistentRead=True,
        )
        found = [item for item in response["Items"] if item["sk"]["S"] != before]
        items, more = found[:limit], len(found) > limit
        entries = [
            LedgerEntry(
                id=item["id"]["S"],
                type=item["type"]["S"],  # type: ignore[arg-type]
                amount=int(item["amount"]["N"]),
                task_id=codec.text(item, "task_id"),
                balance_after=int(item["balance_after"]["N"]),
                created_at=item["created_at"]["S"],
            )
            for item in items
        ]
        return entries, (items[-1]["sk"]["S"] if more and items else None)
