"""TableAccess.batch_get: the one BatchGetItem loop every repository uses (tasks, accounts, keys, balances)."""

from __future__ import annotations

from typing import Any

import pytest

from taskboard.aws import TableAccess


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
    monkeypatch.setattr("taskboard.aws.time.sleep", pauses.append)
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
