"""The webhooks issue's "done when", over HTTP against the running local stack: a receiver on 127.0.0.1
subscribed to a task gets every event of a full lifecycle (a timer-driven expiry included), each verified by
`standardwebhooks`, in the task's order; a receiver that answers 500 twice gets the event on a later try; and
GET /events returns the same events."""

from __future__ import annotations

import time
from typing import Any

import requests
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import Live
from tests.receiver import Receiver

LIFECYCLE = ["task.created", "task.claimed", "task.expired", "task.claimed", "task.delivered", "task.completed"]


def call(live: Live, method: str, path: str, key: str, body: Any = None, status: int = 200) -> Any:
    response = requests.request(method, f"{live.url}{path}", json=body, headers={"x-api-key": key}, timeout=30)
    assert response.status_code == status, response.text
    return response.json()


def test_a_full_lifecycle_reaches_its_subscribers_signed_in_order_and_the_feed_agrees(live: Live) -> None:
    poster, first, second = live.new_agent("poster"), live.new_agent("first"), live.new_agent("second")
    with Receiver() as callback, Receiver() as flaky:
        flaky.fail("task.created", 500, 500)  # its first two answers to the first event
        hook = call(live, "POST", "/webhooks", poster.key, {"url": flaky.url}, status=201)
        task = call(
            live,
            "POST",
            "/tasks",
            poster.key,
            {"title": "lifecycle with webhooks", "timeout_seconds": 30, "callback_url": callback.url},
            status=201,
        )
        call(live, "POST", f"/tasks/{task['id']}/claim", first.key)
        # nobody touches the claim: the claim-expiry timer lets it go after 30 s
        callback.wait_for(lambda seen: "task.expired" in [r.json()["type"] for r in seen], timeout=60)
        call(live, "POST", f"/tasks/{task['id']}/claim", second.key)
        call(live, "POST", f"/tasks/{task['id']}/deliver", second.key, {"result": {"done": True}})
        call(live, "POST", f"/tasks/{task['id']}/complete", poster.key)

        got = callback.wait_for(lambda seen: len(seen) == len(LIFECYCLE))
        events = [Webhook(task["callback"]["secret"]).verify(r.body, r.headers) for r in got]
        assert [e["type"] for e in events] == LIFECYCLE
        assert [e["data"]["sequence"] for e in events] == [1, 2, 3, 4, 5, 6]
        assert events[2]["data"]["cause"] == "timeout"

        # the flaky receiver: 500, 500, then the same event again, accepted; every other event too
        retried = flaky.wait_for(lambda seen: len([r for r in seen if r.answered == 200]) == len(LIFECYCLE))
        first_id = retried[0].headers["webhook-id"]
        assert [r.answered for r in retried if r.headers["webhook-id"] == first_id] == [500, 500, 200]
        accepted = [r for r in retried if r.answered == 200]
        assert first_id in [r.headers["webhook-id"] for r in accepted]
        verified = [Webhook(hook["secret"]).verify(r.body, r.headers) for r in accepted]
        assert sorted(e["data"]["sequence"] for e in verified) == [1, 2, 3, 4, 5, 6]
        log = call(live, "GET", f"/webhooks/{hook['id']}/deliveries?limit=100", poster.key)["deliveries"]
        first_tries = sorted((d["attempt"], d["status_code"]) for d in log if d["event_id"] == first_id)
        assert first_tries == [(1, 500), (2, 500), (3, 200)]

    # the feed: the same events, in the same order (once they are two seconds old)
    time.sleep(2.5)
    feed = call(live, "GET", "/events?limit=100", poster.key)
    mine = [e for e in feed["events"] if e["data"]["task"]["id"] == task["id"]]
    assert mine == events
