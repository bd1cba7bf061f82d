"""A search never hides work: a task the worker can take is found however many entries it cannot take stand
ahead of it in the Available index (its own tasks, tasks it already attempted, tasks below its min_budget), and
every call reads a bounded number of index pages (README: "A search that never hides work")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskboard.tasks.finding import PAGES_PER_CALL, PAGES_PER_SEARCH
from taskboard.tasks.items import INDEX_AVAILABLE, listing_items
from taskboard.tasks.lifecycle import TaskState
from tests.support import Agent, Api

SKILL = "ocr"
SEARCH = f"skills={SKILL}&min_budget=10&timeout=0"


def untakeable(worker: Agent, someone: str, count: int) -> Iterator[TaskState]:
    """Open tasks older than anything the test posts, none of which `worker` may take under SEARCH: a third
    its own, a third it already attempted, a third paying less than its min_budget."""
    start = datetime.now(UTC) - timedelta(days=1)
    for n in range(count):
        at = (start + timedelta(milliseconds=n)).isoformat(timespec="microseconds").replace("+00:00", "Z")
        state = TaskState(
            id=f"00000000-0000-4000-8000-{n:012d}",
            title=f"untakeable {n}",
            poster_id=someone,
            poster_owner=someone,
            created_at=at,
            updated_at=at,
            tags=(SKILL,),
            budget=20,
        )
        kind = n % 3
        if kind == 0:
            state = replace(state, poster_id=worker.id, poster_owner=worker.id)
        elif kind == 1:
            state = replace(state, past_workers=(worker.id,), attempts=1)
        else:
            state = replace(state, budget=5)
        yield state


def fill(count: int, worker: Agent, someone: str) -> None:
    """Write the untakeable tasks' listing items under SKILL straight into the table: exactly the index entries
    a post writes there, all a search of SKILL reads of them (the Query's filter drops each one, so no STATE of
    theirs is ever read). Posting thousands through the API, or writing their other items, would take minutes
    on moto, whose index Queries read the whole table."""
    from taskboard.runtime import board

    tasks = board().tasks
    items = [listing_items(state)[0] for state in untakeable(worker, someone, count)]  # TAG#<SKILL> comes first
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        left: dict[str, Any] = {tasks.table: batch}
        while left:
            left = tasks.db.batch_write_item(RequestItems=left).get("UnprocessedItems") or {}


class IndexReads:
    """Counts the Queries of the Available index (each reads one page of at most ~100 entries)."""

    def __init__(self) -> None:
        from taskboard.runtime import board

        self.count = 0
        board().tasks.db.meta.events.register("before-call.dynamodb.Query", self._seen)

    def _seen(self, params: dict[str, Any], **_: Any) -> None:
        if params.get("IndexName") == INDEX_AVAILABLE:
            self.count += 1

    def since(self, before: int) -> int:
        return self.count - before


@pytest.fixture
def takeable(api: Api, poster: Agent, worker: Agent) -> dict[str, Any]:
    return api.post_task(poster, title="the one to find", tags=[SKILL], budget=20)


def test_a_task_behind_2000_untakeable_ones_is_found_in_one_call(
    api: Api, poster: Agent, worker: Agent, takeable: dict[str, Any]
) -> None:
    fill(2_000, worker, poster.id)
    reads = IndexReads()
    found = api.get("/tasks/next", key=worker.key, query=SEARCH).json()
    assert found["task"] is not None and found["task"]["id"] == takeable["id"], found
    assert found["retry"] is False and found["cursor"] is None
    assert reads.since(0) <= PAGES_PER_CALL + PAGES_PER_SEARCH - 1  # the stated bound

    claimed = api.post("/tasks/next/claim", key=worker.key, query=SEARCH).json()
    assert claimed["task"]["id"] == takeable["id"] and claimed["task"]["claimed_by"] == worker.id


def test_further_back_the_cursor_carries_the_search_on_call_by_call(
    api: Api, poster: Agent, worker: Agent, takeable: dict[str, Any]
) -> None:
    fill(4_000, worker, poster.id)
    reads, cursor, calls, found = IndexReads(), "", 0, None
    while found is None and calls < 5:
        before = reads.count
        answer = api.get("/tasks/next", key=worker.key, query=SEARCH + (f"&cursor={cursor}" if cursor else "")).json()
        calls += 1
        assert reads.since(before) <= PAGES_PER_CALL + PAGES_PER_SEARCH - 1, f"call {calls} read past its bound"
        found = answer["task"]
        if found is None:
            assert answer["retry"] is True and answer["cursor"], answer
            cursor = answer["cursor"]
    assert found is not None and found["id"] == takeable["id"]
    assert calls == 2  # ~2,500 index entries per call: 4,000 ahead take two


def test_without_the_cursor_each_call_starts_again_at_the_oldest(
    api: Api, poster: Agent, worker: Agent, takeable: dict[str, Any]
) -> None:
    fill(3_000, worker, poster.id)
    for _ in range(2):  # the same first stretch every time: never past it
        answer = api.get("/tasks/next", key=worker.key, query=SEARCH).json()
        assert answer["task"] is None and answer["retry"] is True


def test_a_cursor_this_search_did_not_hand_out_is_refused(api: Api, worker: Agent) -> None:
    for cursor in ("nonsense", "eyJ2IjoxLCJwIjp7Im90aGVyIjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDAwMDBaIzAwIn19"):
        answer = api.get("/tasks/next", key=worker.key, query=f"{SEARCH}&cursor={cursor}")
        assert answer.status == 400 and answer.json()["code"] == "invalid_cursor", answer.body
