"""Recompute every balance from the ledger and print any difference (`make audit`).

    make audit                             the stack `make run` is serving (http://127.0.0.1:$PORT)
    make audit STACK=agent-task-board-dev  a deployed stack (its TasksTable, with your AWS credentials)

For every account (the Directory index lists agents, owners and operators; the fees are spread over the fee accounts
`platform`, `platform.1`, ... `platform.<N-1>`, N = FEE_ACCOUNTS or --fee-accounts, default 32; no Scan):
  - the ledger, oldest first, must add up to the account's `balance`, and each entry's `balance_after` must be
    the running sum (a missing, doubled or altered entry shows where it happened); the numbered entries
    (LEDGER#s<seq>#...) must be 1, 2, ... up to the account's `ledger_seq`;
  - its `escrowed` must be the budgets of its paid tasks that were escrowed and neither paid out nor refunded;
and over all accounts: balances + escrow must equal the grants, and what a task (or an order) released, paid out
plus refunded, must be its budget (an order whose dispute the operator split is the one that is both). Exit
status 1 when anything differs.

Cost: one GetItem and one Query per page of each account's partition range (its ledger), the fee accounts'
too, plus the Directory pages: read units grow with the ledger, which is the point of an audit; run it
off-peak on a large table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

PLATFORM = "platform"  # fee account 0; fee account k is platform.<k> (taskboard.money.rules.fee_account)
# Settings.fee_accounts' default (tests/integration/test_audit.py checks they agree): this script runs without the
# layer on its path, so it reads the same variable itself
FEE_ACCOUNTS = 32
PARTITIONS = ("AGENTS", "OWNERS", "OPERATORS")
NUMBERED = re.compile(r"^LEDGER#s(\d{12})#")  # an entry's number (taskboard.core.keys.ledger_entry)


@dataclass
class Report:
    accounts: int = 0
    entries: int = 0
    grants: int = 0
    balances: int = 0
    escrowed: int = 0
    fees: int = 0  # the balances of the fee accounts
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def text(self) -> str:
        summary = (
            f"{self.accounts} accounts, {self.entries} ledger entries: grants {self.grants}, "
            f"balances {self.balances} (fees {self.fees}), escrowed {self.escrowed}"
        )
        if self.ok:
            return f"{summary}. Every balance matches its ledger; the credits add up to the grants.\n"
        return summary + f". {len(self.differences)} differences:\n" + "".join(f"  {d}\n" for d in self.differences)


def _pages(dynamodb: Any, **query: Any) -> Any:
    while True:
        page = dynamodb.query(**query)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def fee_account_ids(count: int | None = None) -> list[str]:
    """The ids of the fee accounts: `count`, or FEE_ACCOUNTS from the environment, or the default."""
    count = count or int(os.environ.get("FEE_ACCOUNTS") or FEE_ACCOUNTS)
    return [PLATFORM, *(f"{PLATFORM}.{shard}" for shard in range(1, count))]


def account_ids(dynamodb: Any, table: str, fee_accounts: int | None = None) -> list[str]:
    """Every agent and owner (Directory index), and the fee accounts."""
    found: list[str] = []
    for partition in PARTITIONS:
        items = _pages(
            dynamodb,
            TableName=table,
            IndexName="Directory",
            KeyConditionExpression="dir_pk = :pk",
            ExpressionAttributeValues={":pk": {"S": partition}},
        )
        found += [item["pk"]["S"].removeprefix("ACCOUNT#") for item in items]
    return [*dict.fromkeys(found), *fee_account_ids(fee_accounts)]


def _number(item: dict[str, Any], name: str) -> int:
    return int(item.get(name, {}).get("N", "0"))


def audit(dynamodb: Any, table: str, fee_accounts: int | None = None) -> Report:
    """Every difference between the accounts and their ledgers (see the module's docstring)."""
    report = Report()
    fee_ids = set(fee_account_ids(fee_accounts))
    escrowed_by_task: dict[str, tuple[str, int]] = {}  # task -> (poster, budget escrowed)
    released: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # task -> kind -> credits
    stored_escrow: dict[str, int] = {}
    for account in account_ids(dynamodb, table, fee_accounts):
        got = dynamodb.get_item(
            TableName=table, Key={"pk": {"S": f"ACCOUNT#{account}"}, "sk": {"S": "ACCOUNT"}}, ConsistentRead=True
        )
        item = got.get("Item")
        if item is None:
            if account not in fee_ids:  # a fee account appears with its first fee
                report.differences.append(f"{account}: listed in the Directory but has no account item")
            continue
        report.accounts += 1
        balance, escrowed = _number(item, "balance"), _number(item, "escrowed")
        report.balances += balance
        report.fees += balance if account in fee_ids else 0
        report.escrowed += escrowed
        stored_escrow[account] = escrowed
        running, numbered, broken = 0, 0, False
        ledger = _pages(
            dynamodb,
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :ledger)",
            ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account}"}, ":ledger": {"S": "LEDGER#"}},
            ConsistentRead=True,
        )
        for entry in ledger:
            report.entries += 1
            kind, amount, task = entry["type"]["S"], _number(entry, "amount"), entry.get("task_id", {}).get("S")
            running += amount
            number = NUMBERED.match(entry["sk"]["S"])
            if number and not broken:
                if int(number.group(1)) == numbered + 1:
                    numbered += 1
                else:  # an entry lost or written twice on one count: said once per account
                    broken = True
                    report.differences.append(
                        f"{account}: ledger entry {entry['id']['S']} is number {int(number.group(1))}, "
                        f"the numbered one before it {numbered}"
                    )
            if _number(entry, "balance_after") != running:
                report.differences.append(
                    f"{account}: ledger entry {entry['id']['S']} ({kind} {amount:+d}) says balance_after "
                    f"{_number(entry, 'balance_after')}, the entries before it add up to {running}"
                )
                running = _number(entry, "balance_after")  # report each break once, not every entry after it
            if kind == "grant":
                report.grants += amount
            elif kind == "escrow" and task:
                escrowed_by_task[task] = (account, -amount)
            elif kind in ("payout", "fee", "refund") and task:
                released[task]["refund" if kind == "refund" else "paid"] += amount
        if running != balance:
            report.differences.append(f"{account}: balance {balance}, its ledger adds up to {running}")
        if not broken and numbered != _number(item, "ledger_seq"):
            report.differences.append(
                f"{account}: ledger_seq {_number(item, 'ledger_seq')}, {numbered} numbered entries"
            )
    live: dict[str, int] = defaultdict(int)
    for task, (poster, budget) in escrowed_by_task.items():
        paid, refunded = released[task]["paid"], released[task]["refund"]
        if paid or refunded:
            # a task is paid out or refunded; an order whose dispute was split is both, once, in parts
            if paid + refunded != budget:
                both = f" (paid out {paid}, refunded {refunded})" if paid and refunded else ""
                report.differences.append(f"task {task}: escrowed {budget}, released {paid + refunded}{both}")
        else:
            live[poster] += budget
    for task in released.keys() - escrowed_by_task.keys():
        report.differences.append(f"task {task}: credits released but never escrowed")
    for account, escrowed in stored_escrow.items():
        if escrowed != live.get(account, 0):
            report.differences.append(
                f"{account}: escrowed {escrowed}, its live paid tasks' budgets add up to {live.get(account, 0)}"
            )
    if report.balances + report.escrowed != report.grants:
        report.differences.append(
            f"balances {report.balances} + escrowed {report.escrowed} = {report.balances + report.escrowed}, "
            f"the grants add up to {report.grants}"
        )
    return report


def _local(url: str) -> tuple[str, int]:
    """Ask the running `make run` server to audit its own (in-memory) table."""
    from urllib.request import urlopen

    with urlopen(url.rstrip("/") + "/_local/audit", timeout=300) as response:
        answer = json.loads(response.read())
    return answer["report"], 0 if answer["ok"] else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack, e.g. agent-task-board-dev")
    where.add_argument("--table", help="a table name (with your AWS credentials and region)")
    where.add_argument("--local", help="the URL of a running `make run`, e.g. http://127.0.0.1:3000")
    parser.add_argument(
        "--fee-accounts",
        type=int,
        help=f"fee accounts to add up on a deployed stack (default: FEE_ACCOUNTS, else {FEE_ACCOUNTS}); "
        "`make run` audits with its own setting",
    )
    args = parser.parse_args()
    if args.local:
        text, status = _local(args.local)
        sys.stdout.write(text)
        sys.exit(status)
    import boto3

    table = args.table
    if args.stack:
        from scripts.replay_webhooks import stack_outputs

        table = stack_outputs(boto3.client("cloudformation"), args.stack)["TableName"]
    report = audit(boto3.client("dynamodb"), table, args.fee_accounts)
    sys.stdout.write(report.text())
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
