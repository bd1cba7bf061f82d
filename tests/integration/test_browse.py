"""GET /tasks and GET /tasks/next: status and skill filters, ordering, cursors; all through index Queries."""

from __future__ import annotations

import pytest

from tests.support import Agent, Api, FrozenClock


def ids(response_json: dict) -> list[str]:
    return [task["id"] for task in response_json["tasks"]]


def test_skills_filter_is_any_of_and_each_task_appears_once(api: Api, poster: Agent, clock: FrozenClock) -> None:
    both = api.post_task(poster, tags=["data", "scraping"])
    clock.advance(1)
    data = api.post_task(poster, tags=["data"])
    clock.advance(1)
    api.post_task(poster, tags=["translation"])
    listed = api.get("/tasks", query="skills=scraping,data").json()
    assert ids(listed) == [both["id"], data["id"]]  # open tasks: oldest first
    assert ids(api.get("/tasks", query="tags=SCRAPING").json()) == [both["id"]]


def test_pages_follow_cursors_without_gaps_or_repeats(api: Api, poster: Agent, clock: FrozenClock) -> None:
    posted = []
    for _ in range(7):
        posted.append(api.post_task(poster, tags=["a" if len(posted) % 2 else "b"])["id"])
        clock.advance(1)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "skills=a,b&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get("/tasks", query=query).json()
        seen += ids(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == posted and pages == 3


def test_status_filters(api: Api, poster: Agent, worker: Agent, clock: FrozenClock) -> None:
    open_task = api.post_task(poster)
    clock.advance(1)
    claimed = api.post_task(poster)
    api.post(f"/tasks/{claimed['id']}/claim", key=worker.key)
    clock.advance(1)
    done = api.post_task(poster)
    api.post(f"/tasks/{done['id']}/claim", key=worker.key)
    api.post(f"/tasks/{done['id']}/deliver", {"result": 1}, key=worker.key)
    clock.advance(1)
    cancelled = api.post_task(poster)
    api.post(f"/tasks/{cancelled['id']}/cancel", key=poster.key)

    assert ids(api.get("/tasks").json()) == [open_task["id"]]  # default: open
    assert ids(api.get("/tasks", query="status=claimed").json()) == [claimed["id"]]
    assert ids(api.get("/tasks", query="status=delivered").json()) == [done["id"]]
    assert ids(api.get("/tasks", query="status=cancelled").json()) == [cancelled["id"]]
    assert ids(api.get("/tasks", query="status=completed").json()) == []
    everything = ids(api.get("/tasks", query="status=all").json())
    assert everything == [cancelled["id"], done["id"], claimed["id"], open_task["id"]]  # newest first

    api.post(f"/tasks/{done['id']}/complete", key=poster.key)
    assert ids(api.get("/tasks", query="status=completed").json()) == [done["id"]]
    assert ids(api.get("/tasks", query="status=delivered").json()) == []


def test_a_lapsed_claim_moves_from_claimed_to_open_listing(
    api: Api, poster: Agent, worker: Agent, clock: FrozenClock
) -> None:
    task = api.post_task(poster, timeout_seconds=30)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    assert ids(api.get("/tasks", query="status=claimed").json()) == [task["id"]]
    clock.advance(31)
    assert ids(api.get("/tasks", query="status=claimed").json()) == []
    assert ids(api.get("/tasks", query="status=open").json()) == [task["id"]]


def test_requires_human_filter(api: Api, poster: Agent, worker: Agent) -> None:
    human = api.post_task(poster, requires_human=True)
    machine = api.post_task(poster)
    assert ids(api.get("/tasks", query="requires_human=true").json()) == [human["id"]]
    found = api.get("/tasks/next", key=worker.key, query="requires_human=false").json()
    assert found["task"]["id"] == machine["id"]


def test_next_skips_own_tasks_and_returns_oldest_first(
    api: Api, poster: Agent, worker: Agent, clock: FrozenClock
) -> None:
    api.post_task(worker, tags=["ocr"])  # the worker's own task is never offered to it
    clock.advance(1)
    older = api.post_task(poster, tags=["ocr"])
    clock.advance(1)
    api.post_task(poster, tags=["ocr"])
    assert api.get("/tasks/next", key=worker.key, query="skills=ocr").json()["task"]["id"] == older["id"]


def test_next_does_not_offer_claimed_tasks_until_their_claim_lapses(
    api: Api, poster: Agent, worker: Agent, other: Agent, clock: FrozenClock
) -> None:
    task = api.post_task(poster, tags=["ocr"], timeout_seconds=30)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    assert api.get("/tasks/next", key=other.key, query="skills=ocr").json()["task"] is None
    clock.advance(31)
    assert api.get("/tasks/next", key=other.key, query="skills=ocr").json()["task"]["id"] == task["id"]


def test_finding_work_never_scans_the_table(api: Api, poster: Agent, worker: Agent) -> None:
    from taskboard.core.aws import client

    calls: list[str] = []
    client("dynamodb").meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    api.post_task(poster, tags=["ocr"])
    api.get("/tasks", query="skills=ocr")
    api.get("/tasks", query="status=all")
    api.get("/tasks/next", key=worker.key, query="skills=ocr")
    api.post("/tasks/next/claim", key=worker.key)
    assert calls and "Scan" not in calls


def test_many_own_or_attempted_tasks_ahead_do_not_hide_newer_work(
    api: Api, poster: Agent, worker: Agent, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskboard.tasks import finding

    # Given more of the worker's own open tasks, and tasks it already attempted, than two pages of the index
    # hold, all older than a task it could take (pages of 8 here, so the test needs few tasks)
    monkeypatch.setattr(finding, "CANDIDATES_PER_PAGE", 8)
    for _ in range(15):
        api.post_task(worker, tags=["busy"])
    for _ in range(5):
        attempted = api.post_task(poster, tags=["busy"])
        api.post(f"/tasks/{attempted['id']}/claim", key=worker.key)
        api.post(f"/tasks/{attempted['id']}/release", key=worker.key)
    clock.advance(1)
    takeable = api.post_task(poster, tags=["busy"])
    # When the worker looks for work, Then it is offered the newer task
    assert api.get("/tasks/next", key=worker.key, query="skills=busy").json()["task"]["id"] == takeable["id"]
    claimed = api.post("/tasks/next/claim", key=worker.key, query="skills=busy").json()
    assert claimed["task"]["id"] == takeable["id"]
