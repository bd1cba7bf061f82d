"""The credit rules as pure functions: what a change of a task's state, or a tip, moves."""

from __future__ import annotations

from typing import Any

from taskboard.money.rules import PLATFORM, Movement, earnings, fee_of, tip


def test_a_tip_pays_the_platform_fee_like_a_budget() -> None:
    # a tip of 25 at 10%: the poster pays 25, the worker gets 23, the platform 2 (a budget of 25 pays the same)
    assert tip("poster", "worker", 25, 10) == [
        Movement("poster", "tip", -25),
        Movement("worker", "tip", 23),
        Movement(PLATFORM, "tip", 2),
    ]
    assert fee_of(25, 10) == 2
    # a tip whose fee rounds down to 0 moves straight across; no tip moves nothing
    assert tip("poster", "worker", 9, 10) == [Movement("poster", "tip", -9), Movement("worker", "tip", 9)]
    assert tip("poster", "worker", 0, 10) == []
    # and every movement adds to zero: a tip creates or destroys no credit
    for amount in (1, 9, 10, 25, 999, 1_000_000):
        for percent in (0, 10, 33, 100):
            assert sum(move.amount for move in tip("p", "w", amount, percent)) == 0


def test_earned_counts_what_the_worker_received_not_the_platforms_share() -> None:
    assert earnings(tip("poster", "worker", 25, 10)) == {"worker": {"earned": 23}}


def test_a_review_contributes_its_rating_and_its_tip_in_one_contribution() -> None:
    from taskboard.tasks.contributions import Contribution, of_review

    assert of_review("poster", "worker", 4, 25, 10) == Contribution(
        moves=(Movement("poster", "tip", -25), Movement("worker", "tip", 23), Movement(PLATFORM, "tip", 2)),
        counts={"worker": {"rating_sum": 4, "rating_count": 1}},
    )
    assert of_review("poster", "worker", 5, 0, 10).moves == ()


# ---- the fee accounts ------------------------------------------------------------------------------------------


def test_the_fees_are_spread_over_accounts_no_agent_can_own() -> None:
    import pytest
    from pydantic import TypeAdapter, ValidationError

    from taskboard.accounts.models import AgentId
    from taskboard.money.rules import fee_accounts, is_fee_account

    names = fee_accounts(32)
    # shard 0 keeps the id the platform's fees always had, so fees taken before the spread stay where they are
    assert names[:3] == [PLATFORM, "platform.1", "platform.2"] and names[-1] == "platform.31"
    assert all(is_fee_account(name) for name in names)
    assert not any(is_fee_account(name) for name in ("platform.0", "platform.01", "platform.", "platforms", "x.1"))
    for name in names:  # `platform` is reserved, and an agent_id has no dot
        with pytest.raises(ValidationError):
            TypeAdapter(AgentId).validate_python(name)


def test_earned_leaves_out_every_fee_account() -> None:
    moves = [Movement("worker", "tip", 23), Movement("platform.7", "tip", 2), Movement(PLATFORM, "tip", 2)]
    assert earnings(moves) == {"worker": {"earned": 23}}


# ---- the writer: one update per account, on what was read ------------------------------------------------------


class FakeTable:
    """The one call Purse makes, BatchGetItem, answered from `items` (account id -> attributes); records the
    keys it was asked for."""

    def __init__(self, items: dict[str, dict[str, int]]) -> None:
        from taskboard.core import codec, keys

        self.items = {account: {**keys.account(account), **codec.item(**held)} for account, held in items.items()}
        self.asked: list[str] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        (request,) = RequestItems.values()
        wanted = [key["pk"]["S"].removeprefix("ACCOUNT#") for key in request["Keys"]]
        self.asked += wanted
        return {"Responses": {"T": [self.items[account] for account in wanted if account in self.items]}}


def updates(actions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The account updates of a change, by account."""
    return {a["Update"]["Key"]["pk"]["S"].removeprefix("ACCOUNT#"): a["Update"] for a in actions if "Update" in a}


def entries(actions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The ledger entries of a change: (account, sort key up to its number, balance_after)."""
    puts = [a["Put"]["Item"] for a in actions if "Put" in a]
    return [(p["pk"]["S"].removeprefix("ACCOUNT#"), p["sk"]["S"][:20], p["balance_after"]["N"]) for p in puts]


def test_a_payout_conditions_balances_and_counts_and_only_adds_to_the_posters_escrow() -> None:
    from dataclasses import replace

    from taskboard.money.purse import Purse
    from taskboard.tasks.contributions import movements
    from taskboard.tasks.lifecycle import Status, TaskState

    # Given a poster, and a worker whose ledger began before entries were counted
    table = FakeTable(
        {
            "poster": {"balance": 50, "escrowed": 25, "ledger_seq": 2},
            "worker": {"balance": 100, "escrowed": 0},
        }
    )
    purse = Purse("T", 10, dynamodb=table, fee_accounts=32, pick=lambda count: 7)
    delivered = TaskState(
        id="t", title="t", poster_id="poster", created_at="", budget=25, status=Status.DELIVERED, claimed_by="worker"
    )

    # When the task completes (fee floor(25 x 10%) = 2)
    actions = purse.actions("t", movements(delivered, replace(delivered, status=Status.COMPLETED), 10), "now")

    # Then

    # the poster's escrow is released without reading it: an add, on the condition that it holds the budget
    assert table.asked == ["worker", "platform.7"]
    by_account = updates(actions)
    assert by_account["poster"]["UpdateExpression"] == "ADD escrowed :escrow"
    assert by_account["poster"]["ConditionExpression"] == "escrowed >= :needed"
    # the worker's balance moves from what was read, its count starts; the fee account (drawn: 7) had nothing
    assert by_account["worker"]["ConditionExpression"] == "balance = :old_balance AND attribute_not_exists(ledger_seq)"
    assert by_account["worker"]["UpdateExpression"].startswith("SET balance = :balance, ledger_seq = :seq")
    assert by_account["platform.7"]["ConditionExpression"] == (
        "attribute_not_exists(balance) AND attribute_not_exists(ledger_seq)"
    )
    # and each entry is numbered on from its account's count
    assert entries(actions) == [("worker", "LEDGER#s000000000001", "123"), ("platform.7", "LEDGER#s000000000001", "2")]


def test_each_attempt_draws_its_fee_account_afresh() -> None:
    from taskboard.money.purse import Purse

    drawn = iter([3, 0, 31])
    purse = Purse("T", 10, dynamodb=FakeTable({}), fee_accounts=32, pick=lambda count: next(drawn))
    fee = [Movement(PLATFORM, "fee", 2)]
    assert [list(updates(purse.actions("t", fee, "now"))) for _ in range(3)] == [
        ["platform.3"],
        [PLATFORM],
        ["platform.31"],
    ]


def test_a_second_entry_on_one_account_takes_the_next_number() -> None:
    from taskboard.money.purse import Purse

    table = FakeTable({"poster": {"balance": 50, "escrowed": 5, "ledger_seq": 4}})
    purse = Purse("T", 10, dynamodb=table)
    moves = [Movement("poster", "tip", -20), Movement("poster", "refund", 5, -5)]

    actions = purse.actions("t", moves, "now")

    (update,) = updates(actions).values()
    assert update["ConditionExpression"] == "balance = :old_balance AND ledger_seq = :old_seq AND escrowed >= :needed"
    assert update["ExpressionAttributeValues"][":seq"] == {"N": "6"}
    assert entries(actions) == [("poster", "LEDGER#s000000000005", "30"), ("poster", "LEDGER#s000000000006", "35")]
