"""Reviews, tips and reputation: the poster reviews once, a tip moves with the review, every ended claim counts on
its worker's profile in the transaction that ends it, and qualifications keep an agent off tasks it may not take."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taskboard.tasks.timers import TimerKind
from tests.integration.test_authorization import scan_table
from tests.support import Agent, Api, FrozenClock

GRANT = 100
RECORD = ("completed", "failed", "expired", "released", "earned", "rating_count", "rating_avg", "completion_rate")


def record(api: Api, agent: Agent) -> dict[str, Any]:
    profile = api.get(f"/agents/{agent.id}").json()
    return {name: profile[name] for name in RECORD}


def balance(api: Api, agent: Agent) -> int:
    return int(api.get("/wallet", key=agent.key).json()["balance"])


def completed_task(api: Api, poster: Agent, worker: Agent, budget: int = 0, **fields: Any) -> dict[str, Any]:
    task = api.post_task(poster, budget=budget, **fields)
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 200
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": "done"}, key=worker.key).status == 200
    completed = api.post(f"/tasks/{task['id']}/complete", key=poster.key)
    assert completed.status == 200, completed.body
    return completed.json()


# ---- reviews and tips -----------------------------------------------------------------------------------------


def test_a_review_with_a_tip_rates_the_worker_and_moves_the_tip(api: Api, poster: Agent, worker: Agent) -> None:
    task = completed_task(api, poster, worker, budget=20)  # the worker gets 18, the platform 2
    assert (balance(api, poster), balance(api, worker)) == (80, 118)

    response = api.post(f"/tasks/{task['id']}/review", {"rating": 4, "comment": "Quick.", "tip": 7}, key=poster.key)

    assert response.status == 201, response.body
    body = response.json()
    assert body["review"] == {
        "task_id": task["id"],
        "worker_id": worker.id,
        "poster_id": poster.id,
        "rating": 4,
        "comment": "Quick.",
        "tip": 7,
        "created_at": body["review"]["created_at"],
    }
    assert body["worker"]["rating_avg"] == 4.0 and body["worker"]["rating_count"] == 1
    # the tip goes from the poster's balance to the worker's, each with its ledger entry; its fee is
    # floor(7 x 10%) = 0 (test_a_tip_pays_the_platform_fee_like_a_budget has one that pays a fee)
    assert (balance(api, poster), balance(api, worker)) == (73, 125)
    poster_ledger = api.get("/wallet/ledger", key=poster.key).json()["entries"]
    worker_ledger = api.get("/wallet/ledger", key=worker.key).json()["entries"]
    assert (poster_ledger[0]["type"], poster_ledger[0]["amount"], poster_ledger[0]["balance_after"]) == ("tip", -7, 73)
    assert (worker_ledger[0]["type"], worker_ledger[0]["amount"], worker_ledger[0]["balance_after"]) == ("tip", 7, 125)
    assert record(api, worker) == {
        "completed": 1,
        "failed": 0,
        "expired": 0,
        "released": 0,
        "earned": 18 + 7,
        "rating_count": 1,
        "rating_avg": 4.0,
        "completion_rate": 1.0,
    }
    # the review is on the task for anyone, and in the worker's list of reviews
    assert api.get(f"/tasks/{task['id']}").json()["review"] == body["review"]
    listed = api.get(f"/agents/{worker.id}/reviews").json()
    assert listed == {"reviews": [body["review"]], "next_cursor": None}


def test_a_tip_pays_the_platform_fee_like_a_budget(api: Api, poster: Agent, worker: Agent) -> None:
    from tests.support import platform_balance

    task = completed_task(api, poster, worker)

    response = api.post(f"/tasks/{task['id']}/review", {"rating": 5, "tip": 25}, key=poster.key)

    assert response.status == 201, response.body
    assert response.json()["review"]["tip"] == 25  # what the poster gave
    # fee = floor(25 x 10%) = 2, as for a budget of 25: the worker gets 23, and `earned` counts what it got
    assert (balance(api, poster), balance(api, worker), platform_balance()) == (GRANT - 25, GRANT + 23, 2)
    assert response.json()["worker"]["earned"] == 23 and record(api, worker)["earned"] == 23
    worker_ledger = api.get("/wallet/ledger", key=worker.key).json()["entries"]
    assert [(entry["type"], entry["amount"]) for entry in worker_ledger] == [("tip", 23), ("grant", GRANT)]
    platform = platform_ledger()
    assert [(entry["type"]["S"], entry["amount"]["N"], entry["task_id"]["S"]) for entry in platform] == [
        ("tip", "2", task["id"])
    ]


def platform_ledger() -> list[dict[str, Any]]:
    """The ledger entries of every fee account (the platform's fees are spread over them)."""
    import boto3

    from tests.support import fee_balances

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    return [
        entry
        for account in fee_balances()
        for entry in dynamodb.query(
            TableName="TasksTable",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :ledger)",
            ExpressionAttributeValues={":pk": {"S": f"ACCOUNT#{account}"}, ":ledger": {"S": "LEDGER#"}},
            ConsistentRead=True,
        )["Items"]
    ]


def test_a_task_is_reviewed_once(api: Api, poster: Agent, worker: Agent) -> None:
    task = completed_task(api, poster, worker)
    assert api.post(f"/tasks/{task['id']}/review", {"rating": 5, "tip": 1}, key=poster.key).status == 201
    before = scan_table()

    again = api.post(f"/tasks/{task['id']}/review", {"rating": 1, "tip": 50}, key=poster.key)

    assert again.status == 409 and again.json()["code"] == "already_reviewed"
    assert scan_table() == before
    assert record(api, worker)["rating_avg"] == 5.0 and balance(api, poster) == 99


def test_racing_reviews_count_once_and_tip_once(api: Api, poster: Agent, worker: Agent) -> None:
    task = completed_task(api, poster, worker)

    def review(rating: int) -> int:
        return api.post(f"/tasks/{task['id']}/review", {"rating": rating, "tip": 10}, key=poster.key).status

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(review, [1, 2, 3, 4, 5, 5]))

    assert statuses.count(201) == 1 and set(statuses) == {201, 409}
    assert record(api, worker)["rating_count"] == 1
    # a tip of 10 pays the platform's fee once: 1 to the platform, 9 to the worker
    assert (balance(api, poster), balance(api, worker)) == (GRANT - 10, GRANT + 9)
    assert record(api, worker)["earned"] == 9
    assert len(api.get(f"/agents/{worker.id}/reviews").json()["reviews"]) == 1


def test_what_cannot_be_reviewed(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    delivered = api.post_task(poster)
    api.post(f"/tasks/{delivered['id']}/claim", key=worker.key)
    api.post(f"/tasks/{delivered['id']}/deliver", {"result": 1}, key=worker.key)
    done = completed_task(api, poster, worker)
    before = scan_table()

    not_yet = api.post(f"/tasks/{delivered['id']}/review", {"rating": 5}, key=poster.key)
    assert not_yet.status == 409 and not_yet.json()["code"] == "invalid_transition"
    assert "completed" in not_yet.json()["error"]
    by_worker = api.post(f"/tasks/{done['id']}/review", {"rating": 5}, key=worker.key)
    assert by_worker.status == 403 and by_worker.json()["code"] == "not_the_poster"
    by_other = api.post(f"/tasks/{done['id']}/review", {"rating": 5}, key=other.key)
    assert by_other.status == 403
    unknown = api.post("/tasks/0f8fad5b-d9cb-469f-a165-70867728950e/review", {"rating": 5}, key=poster.key)
    assert unknown.status == 404 and unknown.json()["code"] == "task_not_found"
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {}, {"rating": 3, "tip": -1}, {"rating": 3, "x": 1}):
        response = api.post(f"/tasks/{done['id']}/review", bad, key=poster.key)
        assert response.status == 400 and response.json()["code"] == "invalid_request", bad
    too_long = api.post(f"/tasks/{done['id']}/review", {"rating": 3, "comment": "x" * 2001}, key=poster.key)
    assert too_long.status == 400
    broke = api.post(f"/tasks/{done['id']}/review", {"rating": 3, "tip": GRANT + 1}, key=poster.key)
    assert broke.status == 402 and broke.json()["code"] == "insufficient_credits"
    assert (broke.json()["balance"], broke.json()["needed"], broke.json()["shortfall"]) == (GRANT, GRANT + 1, 1)
    assert scan_table() == before  # none of these wrote anything: no review, no tip, no counter


def test_reviews_list_newest_first_a_page_at_a_time(api: Api, poster: Agent, worker: Agent) -> None:
    tasks = [completed_task(api, poster, worker) for _ in range(3)]
    for rating, task in zip((3, 4, 5), tasks, strict=True):
        assert api.post(f"/tasks/{task['id']}/review", {"rating": rating}, key=poster.key).status == 201

    first = api.get(f"/agents/{worker.id}/reviews", query="limit=2").json()
    second = api.get(f"/agents/{worker.id}/reviews", query=f"limit=2&cursor={first['next_cursor']}").json()

    assert [review["rating"] for review in first["reviews"] + second["reviews"]] == [5, 4, 3]
    assert second["next_cursor"] is None
    assert record(api, worker)["rating_avg"] == 4.0
    assert api.get("/agents/nobody-here/reviews").status == 404
    assert api.get(f"/agents/{worker.id}/reviews", query="cursor=bogus").json()["code"] == "invalid_cursor"


# ---- the record: every ended claim counts once ----------------------------------------------------------------


def test_each_way_a_claim_ends_counts_for_its_worker(
    api: Api, poster: Agent, worker: Agent, other: Agent, clock: FrozenClock
) -> None:
    from taskboard.runtime import board

    # completed by the poster, and by the auto-complete timer
    completed_task(api, poster, worker, budget=10)  # 9 to the worker
    auto = api.post_task(poster, auto_complete_seconds=60)
    api.post(f"/tasks/{auto['id']}/claim", key=worker.key)
    delivered = api.post(f"/tasks/{auto['id']}/deliver", {"result": 1}, key=worker.key).json()
    clock.advance(61)
    assert board().fire_timer(TimerKind.AUTO_COMPLETE, auto["id"], 1, delivered["auto_complete_at"]) == "completed"
    # rejected: a failed delivery
    rejected = api.post_task(poster)
    api.post(f"/tasks/{rejected['id']}/claim", key=worker.key)
    api.post(f"/tasks/{rejected['id']}/deliver", {"result": 1}, key=worker.key)
    assert api.post(f"/tasks/{rejected['id']}/reject", key=poster.key).status == 200
    # released
    released = api.post_task(poster)
    api.post(f"/tasks/{released['id']}/claim", key=worker.key)
    assert api.post(f"/tasks/{released['id']}/release", key=worker.key).status == 200
    # expired, written by the expiry timer (twice: it counts once)
    expiring = api.post_task(poster, timeout_seconds=30)
    claimed = api.post(f"/tasks/{expiring['id']}/claim", key=worker.key).json()
    clock.advance(31)
    for _ in range(2):
        board().fire_timer(TimerKind.CLAIM_EXPIRY, expiring["id"], 1, claimed["expires_at"])
    # expired without its timer: another agent claims the lapsed task first
    lapsed = api.post_task(poster, timeout_seconds=30)
    api.post(f"/tasks/{lapsed['id']}/claim", key=worker.key)
    clock.advance(31)
    assert api.post(f"/tasks/{lapsed['id']}/claim", key=other.key).status == 200

    assert record(api, worker) == {
        "completed": 2,
        "failed": 1,
        "expired": 2,
        "released": 1,
        "earned": 9,
        "rating_count": 0,
        "rating_avg": None,
        "completion_rate": round(2 / 6, 3),
    }
    assert record(api, other)["completed"] == 0 and record(api, other)["completion_rate"] is None
    # the poster's own record as a worker is untouched by what happened to its tasks
    assert record(api, poster) == {name: (None if name in ("rating_avg", "completion_rate") else 0) for name in RECORD}
    assert api.get("/agents/me", key=worker.key).json()["completed"] == 2


def test_racing_completions_count_once(api: Api, poster: Agent, worker: Agent) -> None:
    task = api.post_task(poster, budget=30)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: api.post(f"/tasks/{task['id']}/complete", key=poster.key).status, range(6)))

    assert statuses.count(200) == 1
    assert record(api, worker)["completed"] == 1 and record(api, worker)["earned"] == 27


# ---- qualifications -------------------------------------------------------------------------------------------


def test_qualifications_keep_an_agent_off_a_task_until_it_meets_them(api: Api, poster: Agent, worker: Agent) -> None:
    demanding = api.post_task(poster, title="for the proven", tags=["audit"], min_rating=4.5, min_completed=1)
    assert (demanding["min_rating"], demanding["min_completed"]) == (4.5, 1)

    # a new agent: not offered the task, and refused with the reason if it claims it anyway
    assert api.get("/tasks/next", key=worker.key, query="skills=audit").json()["task"] is None
    assert api.post("/tasks/next/claim", key=worker.key, query="skills=audit").json()["task"] is None
    before = scan_table()
    refused = api.post(f"/tasks/{demanding['id']}/claim", key=worker.key)
    assert refused.status == 403 and refused.json()["code"] == "not_qualified"
    assert refused.json()["error"] == "This task requires at least 1 completed task; you have 0."
    assert refused.json()["required"] == {"min_rating": 4.5, "min_completed": 1}
    assert refused.json()["yours"] == {"rating_avg": None, "rating_count": 0, "completed": 0}
    assert scan_table() == before

    # one completed task rated 4: enough tasks, not enough rating
    done = completed_task(api, poster, worker)
    api.post(f"/tasks/{done['id']}/review", {"rating": 4}, key=poster.key)
    refused = api.post(f"/tasks/{demanding['id']}/claim", key=worker.key)
    assert refused.status == 403
    assert refused.json()["error"] == "This task requires a mean rating of at least 4.5; yours is 4.0 over 1 review."
    assert api.get("/tasks/next", key=worker.key, query="skills=audit").json()["task"] is None

    # a second one rated 5: the mean is exactly 4.5, and the task is offered and can be claimed
    done = completed_task(api, poster, worker)
    api.post(f"/tasks/{done['id']}/review", {"rating": 5}, key=poster.key)
    assert api.get("/tasks/next", key=worker.key, query="skills=audit").json()["task"]["id"] == demanding["id"]
    claimed = api.post("/tasks/next/claim", key=worker.key, query="skills=audit").json()["task"]
    assert claimed["id"] == demanding["id"] and claimed["claimed_by"] == worker.id


def test_a_task_without_qualifications_is_open_to_a_new_agent(api: Api, poster: Agent, worker: Agent) -> None:
    api.post_task(poster, title="demanding", min_completed=3)
    plain = api.post_task(poster, title="for anyone")
    # the demanding task is older, but it is skipped inside the index Query, not offered
    assert api.get("/tasks/next", key=worker.key).json()["task"]["id"] == plain["id"]


def test_qualifications_are_checked_on_input(api: Api, poster: Agent) -> None:
    for bad in ({"min_rating": 0.5}, {"min_rating": 5.5}, {"min_rating": "4"}, {"min_completed": -1}):
        response = api.post("/tasks", {"title": "t", **bad}, key=poster.key)
        assert response.status == 400 and response.json()["code"] == "invalid_request", bad
    rounded = api.post_task(poster, min_rating=4.256)
    assert rounded["min_rating"] == 4.26 and rounded["min_completed"] == 0


# ---- filters --------------------------------------------------------------------------------------------------


def test_budget_filters_on_listings_and_on_finding_work(api: Api, poster: Agent, worker: Agent) -> None:
    cheap = api.post_task(poster, title="cheap", budget=5)
    middle = api.post_task(poster, title="middle", budget=20)
    rich = api.post_task(poster, title="rich", budget=50)
    free = api.post_task(poster, title="free")

    def listed(query: str) -> list[str]:
        return [task["title"] for task in api.get("/tasks", query=query).json()["tasks"]]

    assert listed("min_budget=10") == ["middle", "rich"]
    assert listed("max_budget=20") == ["cheap", "middle", "free"]
    assert listed("min_budget=5&max_budget=20") == ["cheap", "middle"]
    assert listed("status=all&min_budget=1&max_budget=5") == ["cheap"]
    # finding work: the oldest within the range
    assert api.get("/tasks/next", key=worker.key, query="min_budget=30").json()["task"]["id"] == rich["id"]
    assert api.get("/tasks/next", key=worker.key, query="max_budget=0").json()["task"]["id"] == free["id"]
    claimed = api.post("/tasks/next/claim", key=worker.key, query="min_budget=10&max_budget=40").json()["task"]
    assert claimed["id"] == middle["id"]
    assert api.get("/tasks/next", key=worker.key, query="min_budget=51").json()["task"] is None
    # a finished task is filtered by its budget too
    api.post(f"/tasks/{middle['id']}/deliver", {"result": 1}, key=worker.key)
    api.post(f"/tasks/{middle['id']}/complete", key=poster.key)
    assert listed("status=completed&min_budget=20") == ["middle"]
    assert listed("status=completed&max_budget=19") == []
    for bad in ("min_budget=-1", "max_budget=x", "min_budget=30&max_budget=10", "min_budget=1000001"):
        response = api.get("/tasks", query=bad)
        assert response.status == 400 and response.json()["code"] == "invalid_request", bad
        assert api.get("/tasks/next", key=worker.key, query=bad).status == 400
    assert cheap["budget"] == 5


def test_a_budget_filtered_listing_pages_without_skipping(api: Api, poster: Agent) -> None:
    """The filter drops entries inside the Query, so a page can come back short: the cursor resumes where the
    Query stopped, and paging one at a time still meets every match exactly once."""
    budgets = [0, 7, 0, 0, 8, 0, 9, 0, 0, 0, 10]
    made = [api.post_task(poster, title=f"t{n}", budget=budget, tags=["paging"]) for n, budget in enumerate(budgets)]
    for query in ("min_budget=7", "status=all&min_budget=7", "skills=paging,other&min_budget=7"):
        seen: list[str] = []
        cursor = None
        for _ in range(len(budgets) + 2):
            page = api.get("/tasks", query=query + "&limit=1" + (f"&cursor={cursor}" if cursor else "")).json()
            seen += [task["id"] for task in page["tasks"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        wanted = [task["id"] for task in made if task["budget"] >= 7]
        assert sorted(seen) == sorted(wanted) and len(seen) == len(set(seen)), query


def test_the_directory_filters_on_rating(api: Api, poster: Agent, worker: Agent, other: Agent) -> None:
    for rating, agent in ((5, worker), (3, other)):
        task = completed_task(api, poster, agent)
        api.post(f"/tasks/{task['id']}/review", {"rating": rating}, key=poster.key)

    def names(query: str) -> set[str]:
        return {agent["id"] for agent in api.get("/agents", query=query).json()["agents"]}

    assert names("min_rating=4") == {worker.id}
    assert names("min_rating=3") == {worker.id, other.id}  # the poster, with no reviews, has no rating
    assert names("") == {worker.id, other.id, poster.id}
    one = api.get("/agents", query="min_rating=3&limit=1").json()
    rest = api.get("/agents", query=f"min_rating=3&limit=1&cursor={one['next_cursor']}").json()
    assert {agent["id"] for agent in one["agents"] + rest["agents"]} == {worker.id, other.id}
    for bad in ("min_rating=0", "min_rating=6", "min_rating=x"):
        assert api.get("/agents", query=bad).status == 400
