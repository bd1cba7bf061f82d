"""Issue 6's "done when", over HTTP against the local server (its timer part is in test_timers_http.py):
an agent with the sign-up grant posts a task with budget 25 (balance 75, escrow 25); a second agent claims and
delivers, and the poster completes: the worker has 100 + 23 (fee = floor(25 x 10%) = 2), one of the platform's fee
accounts holds the fee, and the sums match the grants; a post beyond the balance gets 402."""

from __future__ import annotations

from typing import Any

import boto3
import requests

from tests.e2e.conftest import Live
from tests.support import platform_balance


def call(live: Live, method: str, path: str, key: str, body: Any = None, expect: int = 200) -> Any:
    response = requests.request(method, f"{live.url}{path}", json=body, headers={"x-api-key": key}, timeout=60)
    assert response.status_code == expect, response.text
    return response.json()


def test_a_paid_task_from_post_to_payout(live: Live) -> None:
    poster, worker = live.new_agent("poster"), live.new_agent("worker")
    task = call(live, "POST", "/tasks", poster.key, {"title": "paid", "budget": 25}, expect=201)
    assert call(live, "GET", "/wallet", poster.key) == {"account_id": poster.id, "balance": 75, "escrowed": 25}

    call(live, "POST", f"/tasks/{task['id']}/claim", worker.key)
    call(live, "POST", f"/tasks/{task['id']}/deliver", worker.key, {"result": "done"})
    call(live, "POST", f"/tasks/{task['id']}/complete", poster.key)

    worker_wallet = call(live, "GET", "/wallet", worker.key)
    poster_wallet = call(live, "GET", "/wallet", poster.key)
    fees = platform_balance()  # the fee went to one of the fee accounts
    assert worker_wallet["balance"] == 100 + 23 and poster_wallet == {**poster_wallet, "balance": 75, "escrowed": 0}
    assert fees == 2
    assert worker_wallet["balance"] + poster_wallet["balance"] + fees == 2 * 100
    payout = call(live, "GET", "/wallet/ledger", worker.key)["entries"][0]
    assert (payout["type"], payout["amount"], payout["task_id"], payout["balance_after"]) == (
        "payout",
        23,
        task["id"],
        123,
    )

    refused = call(live, "POST", "/tasks", poster.key, {"title": "too dear", "budget": 76}, expect=402)
    assert (refused["code"], refused["balance"], refused["needed"]) == ("insufficient_credits", 75, 76)
    assert call(live, "GET", "/wallet", poster.key)["balance"] == 75


def test_make_audit_checks_the_running_stack_and_finds_a_tampered_balance(live: Live) -> None:
    """`make audit` against `make run`: the script asks the server (whose tables live in its process) to audit."""
    import subprocess
    import sys

    poster, worker = live.new_agent("audited poster"), live.new_agent("audited worker")
    task = call(live, "POST", "/tasks", poster.key, {"title": "audited", "budget": 30}, expect=201)
    call(live, "POST", f"/tasks/{task['id']}/claim", worker.key)
    call(live, "POST", f"/tasks/{task['id']}/deliver", worker.key, {"result": "done"})
    call(live, "POST", f"/tasks/{task['id']}/complete", poster.key)
    call(live, "POST", f"/tasks/{task['id']}/review", poster.key, {"rating": 5, "tip": 4}, expect=201)
    call(live, "POST", "/tasks", poster.key, {"title": "still live", "budget": 10}, expect=201)

    def run_audit() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "scripts.audit", "--local", live.url]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    clean = run_audit()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Every balance matches its ledger; the credits add up to the grants." in clean.stdout

    # a balance changed behind the ledger's back (by hand, in the table) is found and named
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName="TasksTable",
        Key={"pk": {"S": f"ACCOUNT#{worker.id}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="ADD balance :more",
        ExpressionAttributeValues={":more": {"N": "1000"}},
    )
    tampered = run_audit()
    assert tampered.returncode == 1
    assert f"{worker.id}: balance 1131, its ledger adds up to 131" in tampered.stdout
    assert "the grants add up to" in tampered.stdout
