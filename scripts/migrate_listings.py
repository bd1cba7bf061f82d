"""Bring a table written before the shared timers (issue 15) onto today's layout (`make migrate STACK=...`).

Before, every task had a `TAG#*` listing item beside its STATE, and a claim or delivery started its own Step
Functions execution. Now the STATE item is the `*` listing (it carries the listing indexes' keys) and carries
its live deadline (the Deadlines index, which the timers' buckets read). So, for every task listed under `*`
in the ByTag index that still has a `TAG#*` item: one transaction deletes `TAG#*` and rewrites STATE as the
board writes it today, conditioned on the version read (a task that changes meanwhile is read again). The
rewrite reaches the table's stream like any change: a claimed or delivered task's deadline gets the execution
of its bucket there, so its expiry or auto-complete fires as it would have. A task already migrated (no
`TAG#*` item) is skipped: running it twice changes nothing.

    make migrate STACK=agent-task-board-dev        (python -m scripts.migrate_listings --stack ...)

Cost: one Query per 100 tasks (the ByTag index's `*` partition: every task) and, per task still on the old
layout, one consistent BatchGetItem (STATE and TAG#*) and one transaction of two items (~4 write units plus its index
writes). Run it once after deploying; the board keeps working meanwhile (readers check STATE anyway).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYER = Path(__file__).resolve().parent.parent / "layers" / "common"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))

RACES = 5  # a task that keeps changing under the migration is left for the next run (and reported)


@dataclass
class Migrated:
    tasks: int = 0  # listed under '*'
    moved: int = 0  # rewritten onto today's layout
    skipped: int = 0  # already on it
    busy: list[str] | None = None  # changed RACES times while being migrated (or has no STATE): look, run again

    def text(self) -> str:
        busy = self.busy or []
        line = f"{self.tasks} tasks: {self.moved} moved onto the new layout, {self.skipped} already on it"
        return line + (f"; {len(busy)} kept changing, run again: {', '.join(busy[:10])}\n" if busy else ".\n")


def _task_ids(dynamodb: Any, table: str) -> Any:
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": "ByTag",
        "KeyConditionExpression": "all_pk = :all",
        "ExpressionAttributeValues": {":all": {"S": "*"}},
    }
    while True:
        page = dynamodb.query(**query)
        for item in page["Items"]:
            yield item["pk"]["S"].removeprefix("TASK#")
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def migrate_task(dynamodb: Any, table: str, task_id: str) -> bool | None:
    """Move one task onto today's layout: True when moved, False when it already was, None when it kept changing."""
    from taskboard.tasks.items import state_from_item, state_item

    for _ in range(RACES):
        by_sort = {item["sk"]["S"]: item for item in _task_items(dynamodb, table, task_id)}
        if "TAG#*" not in by_sort:
            return False
        if "STATE" not in by_sort:  # a listing without its task: nothing the board writes; report it
            return None
        state = state_from_item(by_sort["STATE"])
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": state_item(state),
                            "ConditionExpression": "version = :read",
                            "ExpressionAttributeValues": {":read": {"N": str(state.version)}},
                        }
                    },
                    {"Delete": {"TableName": table, "Key": {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": "TAG#*"}}}},
                ]
            )
        except dynamodb.exceptions.TransactionCanceledException:
            continue  # the task changed since it was read: read it again
        return True
    return None


def _task_items(dynamodb: Any, table: str, task_id: str) -> list[dict[str, Any]]:
    """The task's STATE and its TAG#* item (the only two the migration reads), strongly consistent; keys
    DynamoDB leaves unprocessed (throttling) are asked for again (TableAccess.batch_get)."""
    from taskboard.core.aws import TableAccess

    keys = [{"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": sort_key}} for sort_key in ("STATE", "TAG#*")]
    return list(TableAccess(table, dynamodb).batch_get(keys, ConsistentRead=True))


def migrate(dynamodb: Any, table: str) -> Migrated:
    done = Migrated(busy=[])
    for task_id in dict.fromkeys(_task_ids(dynamodb, table)):  # a task listed twice (old and new '*') once
        done.tasks += 1
        moved = migrate_task(dynamodb, table, task_id)
        if moved is None:
            assert done.busy is not None
            done.busy.append(task_id)
        elif moved:
            done.moved += 1
        else:
            done.skipped += 1
    return done


def main() -> None:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack, e.g. agent-task-board-dev")
    where.add_argument("--table", help="a table name (with your AWS credentials and region)")
    args = parser.parse_args()
    table = args.table
    if args.stack:
        from scripts.replay_webhooks import stack_outputs

        table = stack_outputs(boto3.client("cloudformation"), args.stack)["TableName"]
    done = migrate(boto3.client("dynamodb"), table)
    sys.stdout.write(done.text())
    sys.exit(1 if done.busy else 0)


if __name__ == "__main__":
    main()
