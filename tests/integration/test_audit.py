"""scripts/audit.py against the moto table: a board whose credits moved every way audits clean, and each kind of
damage (a balance off its ledger, a lost ledger entry, escrow off the live tasks) is found and named."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from scripts.audit import FEE_ACCOUNTS, account_ids, audit, fee_account_ids
from tests.support import Agent, Api, platform_balance

TABLE = "TasksTable"


def dynamodb() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def busy_board(api: Api, poster: Agent, worker: Agent) -> dict[str, Any]:
    """Paid, tipped, refunded and still-live tasks, and an owner account."""
    paid = api.post_task(poster, budget=25)
    api.post(f"/tasks/{paid['id']}/claim", key=worker.key)
    api.post(f"/tasks/{paid['id']}/deliver", {"result": 1}, key=worker.key)
    api.post(f"/tasks/{paid['id']}/complete", key=poster.key)
    assert api.post(f"/tasks/{paid['id']}/review", {"rating": 5, "tip": 3}, key=poster.key).status == 201
    cancelled = api.post_task(poster, budget=10)
    api.post(f"/tasks/{cancelled['id']}/cancel", key=poster.key)
    live = api.post_task(poster, budget=20)
    owner = api.post("/owners/register", {"name": "an owner"}).json()["account"]["id"]
    return {"paid": paid, "live": live, "owner": owner}


def test_a_board_whose_credits_moved_every_way_audits_clean(busy_board: dict[str, Any], poster: Agent) -> None:
    report = audit(dynamodb(), TABLE)

    assert report.ok, report.differences
    assert report.grants == 200 and report.balances + report.escrowed == 200
    assert report.escrowed == 20  # the live task's budget
    # grant x2, escrow x3, payout, fee, tip x2, refund (the tip of 3 pays no fee: floor(3 x 10%) = 0)
    assert report.entries == 10 and report.accounts == 4  # poster, worker, owner, the fee account that took 2
    assert report.fees == 2 == platform_balance()
    assert busy_board["owner"] in account_ids(dynamodb(), TABLE)
    assert "Every balance matches its ledger" in report.text()


def test_a_balance_changed_behind_the_ledger_is_found(busy_board: dict[str, Any], worker: Agent) -> None:
    dynamodb().update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"ACCOUNT#{worker.id}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET balance = :forged",
        ExpressionAttributeValues={":forged": {"N": "500"}},
    )

    report = audit(dynamodb(), TABLE)

    assert not report.ok
    assert f"{worker.id}: balance 500, its ledger adds up to 126" in report.differences
    assert any(d.startswith("balances ") and "the grants add up to 200" in d for d in report.differences)


def test_a_lost_ledger_entry_is_found_where_it_went_missing(busy_board: dict[str, Any], poster: Agent) -> None:
    entries = dynamodb().query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :ledger)",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{poster.id}"}, ":ledger": {"S": "LEDGER#"}},
    )["Items"]
    escrow = next(entry for entry in entries if entry["type"]["S"] == "escrow")
    dynamodb().delete_item(TableName=TABLE, Key={"pk": escrow["pk"], "sk": escrow["sk"]})

    report = audit(dynamodb(), TABLE)

    assert not report.ok
    assert any(d.startswith(f"{poster.id}: ledger entry ") and "add up to" in d for d in report.differences)
    # and the numbering says which entry is gone: the grant is 1, the escrow was 2, the tip after it is 3
    assert any(
        d.startswith(f"{poster.id}: ledger entry ") and "is number 3, the numbered one before it 1" in d
        for d in report.differences
    )
    # the first escrow was the paid task's: its payout now releases credits that were never escrowed
    assert f"task {busy_board['paid']['id']}: credits released but never escrowed" in report.differences


def test_escrow_that_no_live_task_explains_is_found(busy_board: dict[str, Any], poster: Agent) -> None:
    dynamodb().update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"ACCOUNT#{poster.id}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="ADD escrowed :more",
        ExpressionAttributeValues={":more": {"N": "5"}},
    )

    report = audit(dynamodb(), TABLE)

    assert f"{poster.id}: escrowed 25, its live paid tasks' budgets add up to 20" in report.differences


def test_an_entry_written_on_a_count_already_taken_is_found(busy_board: dict[str, Any], worker: Agent) -> None:
    """Two entries on one number: what a write conditioned on the balance alone could make (balance A, B, A
    again between a read and its write), and what the ledger_seq condition now refuses."""
    entries = dynamodb().query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :ledger)",
        ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{worker.id}"}, ":ledger": {"S": "LEDGER#s"}},
    )["Items"]
    last = entries[-1]
    twin = last["sk"]["S"][:21] + "led_" + "f" * 32
    dynamodb().put_item(TableName=TABLE, Item={**last, "sk": {"S": twin}, "id": {"S": "led_" + "f" * 32}})

    report = audit(dynamodb(), TABLE)

    assert (
        f"{worker.id}: ledger entry {'led_' + 'f' * 32} is number 3, the numbered one before it 3" in report.differences
    )


def test_the_audit_reads_every_fee_account_the_board_writes() -> None:
    """scripts/audit.py runs without the layer on its path: its count and names of the fee accounts are the
    board's own (Settings.fee_accounts, taskboard.money.rules.fee_accounts)."""
    from taskboard.core.settings import Settings
    from taskboard.money.rules import fee_accounts

    assert Settings.model_fields["fee_accounts"].default == FEE_ACCOUNTS
    assert fee_account_ids(FEE_ACCOUNTS) == fee_accounts(FEE_ACCOUNTS)
    assert fee_account_ids(3) == ["platform", "platform.1", "platform.2"]
