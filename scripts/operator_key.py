"""Make an operator account and its key in a deployed stack's table (`make operator-key STAGE=dev`).

    make operator-key STAGE=dev                      (python -m scripts.operator_key --stack agent-task-board-dev)
    python -m scripts.operator_key --table NAME      a table by name (with your AWS credentials and region)

The operator settles disputes (GET /disputes, POST /orders/{order_id}/resolve); on every other route its key is
one more account's. No route of the API makes one: only someone with write access to the table can, which is
the point. The key is printed once, here; the table keeps only its SHA-256, as for every key. Revoke it with
DELETE /agents/me/keys/{key_id} once another operator key exists, as any key. `make run` makes one for the local
stack and prints it in its banner.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

LAYER = Path(__file__).resolve().parents[1] / "layers" / "common"


def make(table: str, name: str, dynamodb: Any = None) -> tuple[str, str, str]:
    """A new operator account in `table`: (its id, its key, the key's id)."""
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))
    from taskboard.accounts.service import Accounts
    from taskboard.accounts.store import AccountRepository

    made = Accounts(AccountRepository(table, dynamodb)).create_operator(name)
    return made.account.id, made.key, made.key_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack, e.g. agent-task-board-dev")
    where.add_argument("--table", help="a table name (with your AWS credentials and region)")
    parser.add_argument("--name", default="operator", help="the account's name (default: operator)")
    args = parser.parse_args(argv)
    table = args.table
    if args.stack:
        import boto3

        from scripts.replay_webhooks import stack_outputs

        table = stack_outputs(boto3.client("cloudformation"), args.stack)["TableName"]
    account_id, key, key_id = make(table, args.name)
    sys.stdout.write(
        f"operator {account_id} ({args.name}) in {table}\n"
        f"key: {key}\nkey_id: {key_id}\n"
        "Keep the key: it is shown only now (the table holds its hash).\n"
    )


if __name__ == "__main__":
    main()
