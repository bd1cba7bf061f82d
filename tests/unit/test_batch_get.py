"""TableAccess.batch_get: the one BatchGetItem loop every repository uses (tasks, accounts, keys, balances)."""

from __future__ import annotations

from typing import Any

import pytest

from taskboard.core.aws import (
    BATCH_GET_SECONDS,
    CONNECT_TIMEOUT,
    MAX_ATTEMPTS,
    READ_TIMEOUT,
    TableAccess,
    client_config,
    worst_case_call_seconds,
)
from taskboard.core.errors import Unavailable


class FakeDynamoDB:
    """Answers BatchGetItem from a dict, leaving the last key of a request unprocessed the first `stingy` times."""

    def __init__(self, items: dict[str, dict[str, Any]], stingy: int = 0) -> None:
        self.items, self.stingy, self.requests = items, stingy, []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((table, request),) = RequestItems.items()
        self.requests.append(request)
        keys = request["Keys"]
        answered, unprocessed = (keys[:-1], keys[-1:]) if self.stingy else (keys, [])
        self.stingy -= 1 if unprocessed else 0
        found = [self.items[key["pk"]["S"]] for key in answered if key["pk"]["S"] in self.items]
        left = {table: {**request, "Keys": unprocessed}} if unprocessed else {}
        return {"Responses": {table: found}, "UnprocessedKeys": left}


def keys(*names: str) -> list[dict[str, Any]]:
    return [{"pk": {"S": name}, "sk": {"S": "X"}} for name in names]


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pauses: list[float] = []
    monkeypatch.setattr("taskboard.core.aws.time.sleep", pauses.append)
    return pauses


def test_unprocessed_keys_are_asked_for_again_with_the_same_options(no_pause: list[float]) -> None:
    items = {name: {"pk": {"S": name}} for name in ("a", "b", "c")}
    db = FakeDynamoDB(items, stingy=2)

    found = list(TableAccess("T", db).batch_get(keys("a", "b", "c", "missing"), ConsistentRead=True))

    assert sorted(item["pk"]["S"] for item in found) == ["a", "b", "c"]  # each once; a missing key is no item
    assert len(db.requests) == 3 and all(request["ConsistentRead"] is True for request in db.requests)
    assert len(no_pause) == 2 and no_pause[1] > no_pause[0]  # a growing pause before each retry


def test_more_than_100_keys_go_in_requests_of_at_most_100() -> None:
    names = [f"k{n}" for n in range(250)]
    db = FakeDynamoDB({name: {"pk": {"S": name}} for name in names})

    found = list(TableAccess("T", db).batch_get(keys(*names)))

    assert len(found) == 250
    assert [len(request["Keys"]) for request in db.requests] == [100, 100, 50]
    assert list(TableAccess("T", db).batch_get([])) == []


def test_keys_left_unprocessed_for_too_long_give_up_with_a_503_instead_of_looping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given DynamoDB that keeps one key unprocessed forever, and a clock that moves with every pause
    now = [0.0]
    monkeypatch.setattr("taskboard.core.aws.time.monotonic", lambda: now[0])
    monkeypatch.setattr("taskboard.core.aws.time.sleep", lambda seconds: now.__setitem__(0, now[0] + seconds))
    db = FakeDynamoDB({"a": {"pk": {"S": "a"}}, "b": {"pk": {"S": "b"}}}, stingy=10_000)

    # When the items are read
    with pytest.raises(Unavailable) as refused:
        list(TableAccess("T", db).batch_get(keys("a", "b")))

    # Then it stops within its time budget, after a handful of requests, with an error the API answers 503
    assert now[0] <= BATCH_GET_SECONDS and len(db.requests) < 10
    assert refused.value.status == 503 and refused.value.code == "unavailable"


def test_no_aws_call_can_outlive_the_function_that_makes_it() -> None:
    from local.template import functions, load_template

    # botocore's own defaults (60 s connect, 60 s read, 10 attempts) are replaced by ours ...
    config = client_config()
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert config.retries == {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}
    # ... which, all attempts timing out, still end before the shortest function timeout of the template
    shortest = min(spec.timeout for spec in functions(load_template()).values())
    assert worst_case_call_seconds() < shortest
