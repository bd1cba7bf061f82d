"""Paid tasks: a budget is escrowed on post, paid on completion minus the fee, refunded when the task ends
unpaid; every movement happens once, with its ledger entry, and the credits add up to the grants."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from taskboard.tasks.timers import TimerKind
from tests.support import Agent, Api, FrozenClock, platform_balance

GRANT = 100


def wallet(api: Api, agent: Agent) -> tuple[int, int]:
    body = api.get("/wallet", key=agent.key).json()
    return body["balance"], body["escrowed"]


def ledger(api: Api, agent: Agent) -> list[tuple[str, int, int]]:
    entries = api.get("/wallet/ledger", key=agent.key, query="limit=100").json()["entries"]
    return [(entry["type"], entry["amount"], entry["balance_after"]) for entry in reversed(entries)]


def paid_task(api: Api, poster: Agent, budget: int, **fields: Any) -> dict[str, Any]:
    response = api.post("/tasks", {"title": "paid work", "budget": budget, **fields}, key=poster.key)
    assert response.status == 201, response.body
    return response.json()


def test_completion_pays_the_worker_minus_the_fee_and_the_sums_match(api: Api, poster: Agent, worker: Agent) -> None:
    task = paid_task(api, poster, 25)
    assert task["budget"] == 25
    assert wallet(api, poster) == (75, 25)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": "done"}, key=worker.key)
    assert api.post(f"/tasks/{task['id']}/complete", key=poster.key).status == 200

    # fee = floor(25 x 10%) = 2: the worker gets 23
    assert wallet(api, poster) == (75, 0)
    assert wallet(api, worker) == (GRANT + 23, 0)
    assert platform_balance() == 2
    assert 75 + (GRANT + 23) + 2 == 2 * GRANT
    assert ledger(api, poster) == [("grant", 100, 100), ("escrow", -25, 75)]
    assert ledger(api, worker) == [("grant", 100, 100), ("payout", 23, 123)]

    # completing again moves nothing
    again = api.post(f"/tasks/{task['id']}/complete", key=poster.key)
    assert again.status == 409
    assert wallet(api, worker) == (GRANT + 23, 0) and platform_balance() == 2


def test_the_fee_accounts_are_no_agents(api: Api, poster: Agent, worker: Agent) -> None:
    """A fee account holds credits and no profile: asked for as an agent, it is not found (never a 500)."""
    from tests.support import fee_balances

    task = paid_task(api, poster, 25)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": "done"}, key=worker.key)
    assert api.post(f"/tasks/{task['id']}/complete", key=poster.key).status == 200
    (holder,) = [account for account, balance in fee_balances().items() if balance]

    for account in {holder, "platform", "platform.1", "PLATFORM.31"}:
        for path in (f"/agents/{account}", f"/agents/{account}/reviews"):
            answer = api.get(path)
            assert (answer.status, answer.json()["code"]) == (404, "agent_not_found"), (path, answer.body)


def test_a_budget_beyond_the_balance_gets_402_and_writes_nothing(api: Api, poster: Agent) -> None:
    refused = api.post("/tasks", {"title": "too dear", "budget": 101}, key=poster.key)
    assert refused.status == 402, refused.body
    body = refused.json()
    assert (body["code"], body["balance"], body["needed"], body["shortfall"]) == ("insufficient_credits", 100, 101, 1)
    assert wallet(api, poster) == (100, 0)
    assert api.get("/tasks", query="status=all").json()["tasks"] == []
    assert paid_task(api, poster, 100)["budget"] == 100  # the whole balance is fine
    assert wallet(api, poster) == (0, 100)


def test_cancel_and_final_failure_refund_and_a_rejection_keeps_the_escrow(
    api: Api, poster: Agent, worker: Agent
) -> None:
    cancelled = paid_task(api, poster, 30)
    api.post(f"/tasks/{cancelled['id']}/cancel", key=poster.key)
    assert wallet(api, poster) == (100, 0)

    task = paid_task(api, poster, 40, max_attempts=2)
    for attempt in (1, 2):
        api.post(f"/tasks/{task['id']}/claim", key=worker.key)
        api.post(f"/tasks/{task['id']}/deliver", {"result": attempt}, key=worker.key)
        rejected = api.post(f"/tasks/{task['id']}/reject", {"reason": "no"}, key=poster.key).json()
        if attempt == 1:  # back to open: the escrow stays for the next attempt
            assert rejected["status"] == "open" and wallet(api, poster) == (60, 40)
    assert rejected["status"] == "failed"
    assert wallet(api, poster) == (100, 0) and wallet(api, worker) == (100, 0)
    assert [kind for kind, *_ in ledger(api, poster)] == ["grant", "escrow", "refund", "escrow", "refund"]


def test_auto_complete_pays_out_through_the_timer(api: Api, poster: Agent, worker: Agent, clock: FrozenClock) -> None:
    from taskboard.runtime import board

    task = paid_task(api, poster, 50, auto_complete_seconds=60)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    delivered = api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key).json()
    clock.advance(61)
    assert board().fire_timer(TimerKind.AUTO_COMPLETE, task["id"], 1, delivered["auto_complete_at"]) == "completed"
    assert board().fire_timer(TimerKind.AUTO_COMPLETE, task["id"], 1, delivered["auto_complete_at"]) == "noop"
    assert wallet(api, worker) == (GRANT + 45, 0) and wallet(api, poster) == (50, 0)
    assert platform_balance() == 5


def test_racing_completions_and_cancels_move_money_once(api: Api, poster: Agent, worker: Agent) -> None:
    task = paid_task(api, poster, 20)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: api.post(f"/tasks/{task['id']}/complete", key=poster.key).status, range(8)))
    assert statuses.count(200) == 1
    assert wallet(api, worker) == (GRANT + 18, 0) and platform_balance() == 2
    posts = [{"title": f"t{n}", "budget": 30} for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        made = list(pool.map(lambda body: api.post("/tasks", body, key=poster.key).status, posts))
    # 80 left: two posts of 30 fit, the rest are refused, and nothing goes negative
    assert made.count(201) == 2 and made.count(402) + made.count(409) == 4
    assert wallet(api, poster) == (20, 60)


def test_a_change_read_before_a_racing_change_released_the_escrow_is_read_again(api: Api, poster: Agent) -> None:
    """Two cancels race: the loser read the task while it was open, and the poster's escrow after the winner
    released it. It must re-read (and get 409), not fail on an escrow below zero."""
    from dataclasses import replace

    from taskboard.core.errors import WriteConflict
    from taskboard.runtime import board
    from taskboard.tasks import contributions
    from taskboard.tasks.lifecycle import Status

    task = paid_task(api, poster, 40)
    stale = board().tasks.load(task["id"])
    assert stale is not None
    assert api.post(f"/tasks/{task['id']}/cancel", key=poster.key).status == 200  # the winner
    assert wallet(api, poster) == (100, 0)

    purse = board().purse
    assert purse is not None
    cancelled = replace(stale.state, status=Status.CANCELLED)
    with pytest.raises(WriteConflict):  # a refund computed from the stale task is refused, to be read again
        purse.actions(task["id"], contributions.movements(stale.state, cancelled, 10), "2026-01-01T00:00:00.000000Z")
    assert api.post(f"/tasks/{task['id']}/cancel", key=poster.key).status == 409
    assert wallet(api, poster) == (100, 0)
