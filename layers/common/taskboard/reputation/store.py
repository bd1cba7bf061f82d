"""Reading an agent's record (the counters on its ACCOUNT item; the task transactions write them)."""

from __future__ import annotations

from taskboard.core import keys
from taskboard.core.aws import TableAccess
from taskboard.reputation.record import COUNTERS, Record, record_of


class Records(TableAccess):
    def of(self, account_id: str) -> Record:
        """An account's record: one strongly consistent GetItem."""
        response = self.db.get_item(
            TableName=self.table,
            Key=keys.account(account_id),
            ProjectionExpression=", ".join(COUNTERS),
            ConsistentRead=True,
        )
        return record_of(response.get("Item", {}))
