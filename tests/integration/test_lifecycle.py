"""The whole lifecycle through the real handlers on moto, table created from template.yaml."""

from __future__ import annotations

from tests.support import QUICKSTART_SCHEMA, Agent, Api, FrozenClock


def test_agentdo_quickstart_post_claim_bad_delivery_good_delivery_complete(
    api: Api, poster: Agent, worker: Agent
) -> None:
    # Given a task with an output_schema
    task = api.post_task(
        poster,
        title="Scrape LA zip codes",
        input={"region": "LA"},
        output_schema=QUICKSTART_SCHEMA,
        tags=["data", "scraping"],
        timeout_minutes=30,
    )
    assert task["status"] == "open" and task["timeout_seconds"] == 1800

    # When a worker finds it and claims it
    found = api.get("/tasks/next", key=worker.key, query="skills=scraping,data").json()
    assert found["task"]["id"] == task["id"] and found["retry"] is False
    claimed = api.post(f"/tasks/{task['id']}/claim", {"agent_id": "mybot@example.com"}, key=worker.key)
    assert claimed.status == 200
    assert claimed.json()["status"] == "claimed"
    assert claimed.json()["claimed_by"] == worker.id and claimed.json()["agent_id"] == "mybot@example.com"
    assert claimed.json()["attempts"] == 1 and claimed.json()["expires_at"]

    # Then a delivery that breaks the schema is refused with every error and its JSON pointer
    bad = api.post(f"/tasks/{task['id']}/deliver", {"result": [{"zip": 90210}]}, key=worker.key)
    assert bad.status == 422
    assert bad.json()["code"] == "result_invalid"
    assert "/0/zip must be string" in bad.json()["validation_errors"]
    assert "/0 must have required property 'median_value'" in bad.json()["validation_errors"]
    assert bad.json()["expected_schema"] == QUICKSTART_SCHEMA
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "claimed"

    # And a good one is accepted, visible to the poster, and completed by the poster
    good = [{"zip": "90210", "median_value": 3500000}]
    delivered = api.post(f"/tasks/{task['id']}/deliver", {"result": good}, key=worker.key)
    assert delivered.status == 200 and delivered.json()["status"] == "delivered"
    result = api.get(f"/tasks/{task['id']}/result", key=poster.key, query="timeout=0").json()
    assert result["status"] == "delivered" and result["result"] == good and result["retry"] is False
    completed = api.post(f"/tasks/{task['id']}/complete", key=poster.key)
    assert completed.status == 200 and completed.json()["status"] == "completed"
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "completed"


def test_result_is_visible_only_to_poster_and_worker(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    task = api.post_task(poster)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": {"answer": 42}}, key=worker.key)
    assert api.get(f"/tasks/{task['id']}", key=poster.key).json()["result"] == {"answer": 42}
    assert api.get(f"/tasks/{task['id']}", key=worker.key).json()["result"] == {"answer": 42}
    assert api.get(f"/tasks/{task['id']}", key=other.key).json()["result"] is None
    assert api.get(f"/tasks/{task['id']}").json()["result"] is None


def test_second_claim_gets_409(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    task = api.post_task(poster)
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 200
    second = api.post(f"/tasks/{task['id']}/claim", key=other.key)
    assert second.status == 409 and second.json()["code"] == "task_not_claimable"


def test_poster_cannot_claim_own_task(api: Api, poster: Agent) -> None:
    task = api.post_task(poster)
    response = api.post(f"/tasks/{task['id']}/claim", key=poster.key)
    assert response.status == 403 and response.json()["code"] == "own_task"


def test_lapsed_claim_reads_open_and_is_claimable_without_any_timer(
    api: Api, clock: FrozenClock, poster: Agent, worker: Agent, other: Agent
) -> None:
    task = api.post_task(poster, timeout_seconds=60)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    clock.advance(61)
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "open"
    listed = api.get("/tasks", query="status=open").json()["tasks"]
    assert [t["id"] for t in listed] == [task["id"]]
    # The lapsed worker can no longer deliver: 409, not a silent overwrite
    late = api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key)
    assert late.status == 409 and late.json()["code"] == "stale_claim"
    reclaimed = api.post(f"/tasks/{task['id']}/claim", key=other.key)
    assert reclaimed.status == 200 and reclaimed.json()["attempts"] == 2
    # ... and still cannot, now that someone else holds attempt 2
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key).status == 409
    assert api.post(f"/tasks/{task['id']}/heartbeat", key=worker.key).status == 409


def test_lapsed_last_attempt_reads_failed(api: Api, clock: FrozenClock, poster: Agent, worker: Agent) -> None:
    task = api.post_task(poster, timeout_seconds=30, max_attempts=1)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    clock.advance(31)
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "failed"
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 409


def test_heartbeat_extends_the_claim(api: Api, clock: FrozenClock, poster: Agent, worker: Agent) -> None:
    task = api.post_task(poster, timeout_seconds=60)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    clock.advance(50)
    beat = api.post(f"/tasks/{task['id']}/heartbeat", key=worker.key)
    assert beat.status == 200
    clock.advance(50)
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "claimed"
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": "done"}, key=worker.key).status == 200


def test_heartbeat_with_a_stale_attempt_number_is_refused(api: Api, poster: Agent, worker: Agent) -> None:
    task = api.post_task(poster)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    response = api.post(f"/tasks/{task['id']}/heartbeat", {"attempt": 7}, key=worker.key)
    assert response.status == 409 and response.json()["code"] == "stale_claim"


def test_release_reopens_and_uses_the_attempt(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    task = api.post_task(poster, max_attempts=2)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    released = api.post(f"/tasks/{task['id']}/release", key=worker.key).json()
    assert released["status"] == "open" and released["claimed_by"] is None and released["attempts"] == 1
    api.post(f"/tasks/{task['id']}/claim", key=other.key)
    assert api.post(f"/tasks/{task['id']}/release", key=other.key).json()["status"] == "failed"


def test_reject_reopens_then_fails_after_max_attempts(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    task = api.post_task(poster, max_attempts=2)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": "v1"}, key=worker.key)
    rejected = api.post(f"/tasks/{task['id']}/reject", {"reason": "incomplete"}, key=poster.key).json()
    assert rejected["status"] == "open" and rejected["last_rejection_reason"] == "incomplete"
    assert rejected["result"] is None
    # the rejected worker is not offered the task again, the other agent is
    assert api.get("/tasks/next", key=worker.key).json()["task"] is None
    assert api.get("/tasks/next", key=other.key).json()["task"]["id"] == task["id"]
    api.post(f"/tasks/{task['id']}/claim", key=other.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": "v2"}, key=other.key)
    final = api.post(f"/tasks/{task['id']}/reject", key=poster.key).json()
    assert final["status"] == "failed" and final["attempts"] == 2


def test_cancel_only_while_open(api: Api, poster: Agent, worker: Agent) -> None:
    open_task = api.post_task(poster)
    assert api.post(f"/tasks/{open_task['id']}/cancel", key=poster.key).json()["status"] == "cancelled"
    assert api.post(f"/tasks/{open_task['id']}/claim", key=worker.key).status == 409
    claimed = api.post_task(poster)
    api.post(f"/tasks/{claimed['id']}/claim", key=worker.key)
    refused = api.post(f"/tasks/{claimed['id']}/cancel", key=poster.key)
    assert refused.status == 409 and refused.json()["code"] == "invalid_transition"


def test_claim_next_finds_and_claims_in_one_step(api: Api, poster: Agent, worker: Agent) -> None:
    first = api.post_task(poster, tags=["ocr"])
    api.post_task(poster, tags=["translation"])
    response = api.post("/tasks/next/claim", {"agent_id": "bot"}, key=worker.key, query="skills=ocr").json()
    assert response["task"]["id"] == first["id"] and response["task"]["status"] == "claimed"
    assert response["task"]["claimed_by"] == worker.id
    again = api.post("/tasks/next/claim", key=worker.key, query="skills=ocr").json()
    assert again == {"task": None, "retry": True, "cursor": None}


def test_long_poll_waits_and_returns_retry(api: Api, worker: Agent) -> None:
    import time

    started = time.monotonic()
    response = api.get("/tasks/next", key=worker.key, query="timeout=1").json()
    assert response == {"task": None, "retry": True, "cursor": None}
    assert 0.8 <= time.monotonic() - started < 5


def test_result_long_poll_says_retry_while_waiting(api: Api, poster: Agent) -> None:
    task = api.post_task(poster)
    response = api.get(f"/tasks/{task['id']}/result", key=poster.key, query="timeout=0").json()
    assert response["status"] == "open" and response["retry"] is True and response["result"] is None
