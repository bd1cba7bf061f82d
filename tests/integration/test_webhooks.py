"""Webhooks through the whole local pipeline: the API, the table's stream, the fan-out function, the SQS queue,
the delivery function and a real receiver on 127.0.0.1. Every delivery is verified with `standardwebhooks`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook

from local.stack import Stack
from tests.receiver import Received, Receiver
from tests.support import Agent, Api, FrozenClock


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


def subscribe(api: Api, agent: Agent, url: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/webhooks", {"url": url, **fields}, key=agent.key)
    assert response.status == 201, response.body
    return response.json()


def verified(secret: str, received: Received) -> dict[str, Any]:
    payload = Webhook(secret).verify(received.body, received.headers)
    assert isinstance(payload, dict)
    return payload


def delivered_types(receiver: Receiver, count: int) -> list[str]:
    receiver.wait_for(lambda seen: len([r for r in seen if r.answered == 200]) >= count)
    return [event["type"] for event in receiver.events()]


def test_a_subscriber_gets_every_event_of_its_tasks_signed_and_in_order(
    api: Api, poster: Agent, worker: Agent, receiver: Receiver
) -> None:
    hook = subscribe(api, poster, receiver.url)
    task = api.post_task(poster, title="with a webhook", tags=["python"])
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 200
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": {"ok": 1}}, key=worker.key).status == 200
    assert api.post(f"/tasks/{task['id']}/complete", key=poster.key).status == 200

    types = delivered_types(receiver, 4)
    assert types == ["task.created", "task.claimed", "task.delivered", "task.completed"]
    events = [verified(hook["secret"], r) for r in receiver.received]
    assert [e["data"]["sequence"] for e in events] == [1, 2, 3, 4]
    assert all(e["data"]["task"]["id"] == task["id"] for e in events)
    # the webhook-id is the event's id; payloads leave the bodies out (the receiver fetches those)
    for received, event in zip(receiver.received, events, strict=True):
        assert received.headers["webhook-id"] == event["id"]
        assert not {"input", "result", "description", "output_schema"} & set(event["data"]["task"])
    # and the feed holds exactly the same events
    assert [e["id"] for e in board_events(task["id"])] == [e["id"] for e in events]


def board_events(task_id: str) -> list[dict[str, Any]]:
    from taskboard.runtime import board

    return board().events(task_id)


def test_the_worker_is_told_about_its_claims_but_not_others_tasks(
    api: Api, poster: Agent, worker: Agent, other: Agent, receiver: Receiver
) -> None:
    hook = subscribe(api, worker, receiver.url)
    mine = api.post_task(poster, title="the worker will claim this")
    api.post_task(poster, title="nobody claims this")
    api.post(f"/tasks/{mine['id']}/claim", key=worker.key)
    api.post(f"/tasks/{mine['id']}/release", key=worker.key)  # the worker lost the claim: still its event
    api.post(f"/tasks/{mine['id']}/claim", key=other.key)  # no longer about the worker

    assert delivered_types(receiver, 2) == ["task.claimed", "task.released"]
    assert [verified(hook["secret"], r)["data"]["task"]["id"] for r in receiver.received] == [mine["id"]] * 2


def test_a_skill_subscription_gets_new_tasks_of_its_skills_only(
    api: Api, poster: Agent, worker: Agent, receiver: Receiver
) -> None:
    subscribe(api, worker, receiver.url, skills=["Scraping", "pdf"])
    api.post_task(poster, title="not for me", tags=["design"])
    wanted = api.post_task(poster, title="for me", tags=["scraping", "python"])
    api.post_task(poster, title="me too", tags=["pdf"])
    assert delivered_types(receiver, 2) == ["task.created", "task.created"]
    assert {e["data"]["task"]["title"] for e in receiver.events()} == {"for me", "me too"}
    # a later change of a task it only saw posted is not its business
    api.post(f"/tasks/{wanted['id']}/cancel", key=poster.key)
    api.post_task(poster, title="marker", tags=["pdf"])  # the stream is read in order: the cancel came first
    assert delivered_types(receiver, 3) == ["task.created"] * 3
    assert receiver.events()[-1]["data"]["task"]["title"] == "marker"


def test_event_filters_and_the_test_event(api: Api, poster: Agent, worker: Agent, receiver: Receiver) -> None:
    hook = subscribe(api, poster, receiver.url, events=["task.delivered"])
    task = api.post_task(poster)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key)
    assert delivered_types(receiver, 1) == ["task.delivered"]
    queued = api.post(f"/webhooks/{hook['id']}/test", key=poster.key)
    assert queued.status == 202
    assert delivered_types(receiver, 2) == ["task.delivered", "webhook.test"]
    test_event = verified(hook["secret"], receiver.received[-1])
    assert test_event["id"] == queued.json()["event_id"] and test_event["data"]["webhook_id"] == hook["id"]


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_try_and_the_log_shows_it(
    api: Api, poster: Agent, receiver: Receiver
) -> None:
    hook = subscribe(api, poster, receiver.url)
    receiver.answer(500, (503, {"Retry-After": "2"}))
    task = api.post_task(poster)
    receiver.wait_for(lambda seen: [r.answered for r in seen] == [500, 503, 200])
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 1  # the same event each time, with the same id
    assert all(verified(hook["secret"], r)["data"]["task"]["id"] == task["id"] for r in receiver.received)

    log = api.get(f"/webhooks/{hook['id']}/deliveries", key=poster.key).json()["deliveries"]
    log.reverse()  # newest first in the API
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
        (1, 500, "retrying"),
        (2, 503, "retrying"),
        (3, 200, "delivered"),
    ]
    from taskboard.core.clock import from_iso

    # the schedule's first step is 1 s here; the 503's Retry-After asked for 2 s
    for entry, wait in zip(log[:2], (1, 2), strict=True):
        assert (from_iso(entry["next_retry_at"]) - from_iso(entry["attempted_at"])).total_seconds() == wait
    assert (from_iso(log[2]["attempted_at"]) - from_iso(log[1]["next_retry_at"])).total_seconds() >= 0
    # the failures were forgotten after the success
    assert api.get(f"/webhooks/{hook['id']}", key=poster.key).json()["failing_since"] is None


def test_410_disables_the_subscription_until_it_is_enabled_again(api: Api, poster: Agent, receiver: Receiver) -> None:
    hook = subscribe(api, poster, receiver.url)
    receiver.answer(410)
    api.post_task(poster, title="first")
    receiver.wait_for(lambda seen: len(seen) == 1)
    seen = wait_for_status(api, poster, hook["id"], "disabled")
    assert "410" in seen["disabled_reason"]
    assert api.post(f"/webhooks/{hook['id']}/test", key=poster.key).json()["code"] == "conflict"

    with Receiver() as witness:  # another subscription of the poster sees the event go by
        subscribe(api, poster, witness.url)
        api.post_task(poster, title="while disabled")  # not delivered to the disabled one
        witness.wait_for(lambda seen: len(seen) == 1)
    enabled = api.post(f"/webhooks/{hook['id']}/enable", key=poster.key).json()
    assert enabled["status"] == "active" and enabled["disabled_reason"] is None
    third = api.post_task(poster, title="after enabling")
    receiver.wait_for(lambda seen: len(seen) == 2)
    assert [r.json()["data"]["task"]["title"] for r in receiver.received] == ["first", "after enabling"]
    assert receiver.received[1].json()["data"]["task"]["id"] == third["id"]


def wait_for_status(api: Api, agent: Agent, hook_id: str, status: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = api.get(f"/webhooks/{hook_id}", key=agent.key).json()
        if seen["status"] == status:
            return dict(seen)
        time.sleep(0.05)
    raise AssertionError(f"{hook_id} never became {status}")


def test_after_the_last_try_the_message_is_dead_lettered_and_a_replay_delivers_it(
    api: Api, stack: Stack, poster: Agent, receiver: Receiver
) -> None:
    hook = subscribe(api, poster, receiver.url)
    receiver.answer(500, 500, 500, 500)  # every attempt of the test schedule (1 + 3 retries)
    api.post_task(poster)
    receiver.wait_for(lambda seen: len(seen) == 4)
    sqs = boto3.client("sqs", region_name="us-east-1")
    dead_letters = stack.names["WebhookDeadLetterQueue"]
    parked = wait_for_messages(sqs, dead_letters)
    (message,) = parked
    body = json.loads(message["Body"])
    assert body["attempt"] == 1 and body["due"] is None and body["webhook_id"] == hook["id"]
    assert "4 attempts failed" in message["MessageAttributes"]["reason"]["StringValue"]
    log = api.get(f"/webhooks/{hook['id']}/deliveries", key=poster.key).json()["deliveries"]
    assert log[0]["outcome"] == "failed" and log[0]["attempt"] == 4

    # What `make replay-webhooks` asks SQS to do (StartMessageMoveTask): the message goes back to the queue
    sqs.send_message(QueueUrl=stack.names["WebhookQueue"], MessageBody=message["Body"])
    sqs.delete_message(QueueUrl=dead_letters, ReceiptHandle=message["ReceiptHandle"])
    receiver.wait_for(lambda seen: len(seen) == 5 and seen[-1].answered == 200)
    assert verified(hook["secret"], receiver.received[-1])["id"] == body["event"]["id"]


def wait_for_messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        if got.get("Messages"):
            return list(got["Messages"])
        time.sleep(0.1)
    raise AssertionError("no message arrived")


def test_rotation_signs_with_both_secrets(api: Api, poster: Agent, receiver: Receiver) -> None:
    hook = subscribe(api, poster, receiver.url)
    rotated = api.post(f"/webhooks/{hook['id']}/rotate", key=poster.key).json()
    assert rotated["secret"] != hook["secret"] and rotated["secret"].startswith("whsec_")
    api.post(f"/webhooks/{hook['id']}/test", key=poster.key)
    (received,) = receiver.wait_for(lambda seen: len(seen) == 1)
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verified(hook["secret"], received) == verified(rotated["secret"], received)
    shown = api.get(f"/webhooks/{hook['id']}", key=poster.key).json()
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    assert "secret" not in shown and hook["secret"] not in json.dumps(api.get("/webhooks", key=poster.key).json())


def test_a_callback_url_is_a_subscription_to_that_task_alone(
    api: Api, poster: Agent, worker: Agent, receiver: Receiver
) -> None:
    task = api.post_task(poster, title="with a callback", callback_url=receiver.url)
    callback = task["callback"]
    assert callback["webhook_id"] == f"cb_{task['id']}" and callback["secret"].startswith("whsec_")
    api.post_task(poster, title="another task of the same poster")
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    assert delivered_types(receiver, 2) == ["task.created", "task.claimed"]
    assert {verified(callback["secret"], r)["data"]["task"]["id"] for r in receiver.received} == {task["id"]}
    # it is managed like any webhook, by its owner only, and does not count among the account's subscriptions
    assert api.get(f"/webhooks/{callback['webhook_id']}", key=poster.key).json()["task_id"] == task["id"]
    assert api.get(f"/webhooks/{callback['webhook_id']}", key=worker.key).status == 404
    assert api.get("/webhooks", key=poster.key).json()["webhooks"] == []
    # the secret is shown once: reading the task again does not show it
    assert "callback" not in api.get(f"/tasks/{task['id']}", key=poster.key).json()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://2130706433/hook",
        "https://0x7f.1/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pass@93.184.215.14/hook",
    ],
)
def test_urls_aimed_inside_are_refused_for_webhooks_and_callbacks(api: Api, poster: Agent, url: str) -> None:
    """The local stack allows loopback (a receiver on this machine); everything else is refused as deployed
    (tests/unit/test_outbound.py has the full list, loopback included)."""
    from tests.integration.test_authorization import scan_table

    before = scan_table()
    refused = api.post("/webhooks", {"url": url}, key=poster.key)
    assert refused.status == 400 and refused.json()["code"] == "unsafe_url", refused.body
    task = api.post("/tasks", {"title": "x", "callback_url": url}, key=poster.key)
    assert task.status == 400 and task.json()["code"] == "unsafe_url", task.body
    assert scan_table() == before  # no task, no subscription


def test_bad_webhook_requests_get_clear_errors(api: Api, poster: Agent, receiver: Receiver) -> None:
    cases = [
        ({"url": receiver.url, "events": ["task.exploded"]}, "invalid_request"),
        ({"url": receiver.url, "events": []}, "invalid_request"),
        ({"url": receiver.url, "skills": ["python"], "events": ["task.claimed"]}, "invalid_request"),
        ({"url": receiver.url, "secret": "mine"}, "invalid_request"),
        ({"url": "x" * 3000}, "invalid_request"),
        ({}, "invalid_request"),
    ]
    for body, code in cases:
        response = api.post("/webhooks", body, key=poster.key)
        assert response.status == 400 and response.json()["code"] == code, (body, response.body)
    assert api.get("/webhooks/wh_nope", key=poster.key).json()["code"] == "webhook_not_found"
    assert api.get("/webhooks/../keys", key=poster.key).status == 404
    bad_cursor = api.get("/events", key=poster.key, query="after=bogus")
    assert bad_cursor.status == 400 and bad_cursor.json()["code"] == "invalid_cursor"
    bad_type = api.get("/events", key=poster.key, query="types=task.nope")
    assert bad_type.status == 400 and "task.nope" in bad_type.json()["error"]


def test_an_account_holds_at_most_20_subscriptions(api: Api, poster: Agent, receiver: Receiver) -> None:
    made = [subscribe(api, poster, receiver.url, events=["task.failed"]) for _ in range(20)]
    refused = api.post("/webhooks", {"url": receiver.url}, key=poster.key)
    assert refused.status == 409 and refused.json()["code"] == "too_many_webhooks"
    assert api.call("DELETE", f"/webhooks/{made[0]['id']}", key=poster.key).status == 204
    assert api.call("DELETE", f"/webhooks/{made[0]['id']}", key=poster.key).status == 404
    assert api.post("/webhooks", {"url": receiver.url}, key=poster.key).status == 201
    assert len(api.get("/webhooks", key=poster.key).json()["webhooks"]) == 20


def test_a_deleted_subscription_gets_nothing_more(api: Api, poster: Agent, receiver: Receiver) -> None:
    hook = subscribe(api, poster, receiver.url)
    api.post_task(poster, title="before")
    receiver.wait_for(lambda seen: len(seen) == 1)
    assert api.call("DELETE", f"/webhooks/{hook['id']}", key=poster.key).status == 204
    marker = subscribe(api, poster, receiver.url, events=["task.created"])
    api.post_task(poster, title="after")
    receiver.wait_for(lambda seen: len(seen) == 2)
    assert [r.json()["data"]["task"]["title"] for r in receiver.received] == ["before", "after"]
    verified(marker["secret"], receiver.received[1])  # the second came through the new subscription


# ---- the feed -------------------------------------------------------------------------------------------------


def test_the_feed_returns_the_callers_events_in_order_page_by_page(
    api: Api, clock: FrozenClock, poster: Agent, worker: Agent, other: Agent
) -> None:
    def step(call: Any) -> Any:
        clock.advance(0.01)  # a distinct time for each change (events of one instant sort by task id)
        return call()

    tasks = [step(lambda n=n: api.post_task(poster, title=f"task {n}")) for n in range(3)]
    step(lambda: api.post(f"/tasks/{tasks[0]['id']}/claim", key=worker.key))
    step(lambda: api.post(f"/tasks/{tasks[0]['id']}/deliver", {"result": 1}, key=worker.key))
    step(lambda: api.post(f"/tasks/{tasks[1]['id']}/claim", key=worker.key))
    step(lambda: api.post(f"/tasks/{tasks[1]['id']}/release", key=worker.key))
    step(lambda: api.post(f"/tasks/{tasks[2]['id']}/cancel", key=poster.key))

    # nothing younger than the settle time (2 s) is shown yet
    assert feed(api, poster) == []
    clock.advance(1.97)  # now the first five are 2 s old
    assert [e["type"] for e in feed(api, poster)] == ["task.created"] * 3 + ["task.claimed", "task.delivered"]
    clock.advance(5)
    everything = feed(api, poster)
    assert [(e["data"]["task"]["title"], e["type"]) for e in everything] == [
        ("task 0", "task.created"),
        ("task 1", "task.created"),
        ("task 2", "task.created"),
        ("task 0", "task.claimed"),
        ("task 0", "task.delivered"),
        ("task 1", "task.claimed"),
        ("task 1", "task.released"),
        ("task 2", "task.cancelled"),
    ]
    # the same events, from the same outbox the webhooks read
    for task in tasks:
        assert [e for e in everything if e["data"]["task"]["id"] == task["id"]] == board_events(task["id"])
    # pages of 3 give the same events, and the cursor after the last one stays valid for what comes next
    pages, after = [], None
    while True:
        query = "limit=3" + (f"&after={after}" if after else "")
        page = api.get("/events", key=poster.key, query=query).json()
        pages.append(page["events"])
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    assert [len(p) for p in pages] == [3, 3, 2] and [e for p in pages for e in p] == everything
    step(lambda: api.post(f"/tasks/{tasks[0]['id']}/complete", key=poster.key))
    clock.advance(5)
    newer = api.get("/events", key=poster.key, query=f"after={after}").json()
    assert [e["type"] for e in newer["events"]] == ["task.completed"] and newer["has_more"] is False

    # the worker sees its claims (also the one it released), someone else sees nothing
    assert [(e["data"]["task"]["title"], e["type"]) for e in feed(api, worker)] == [
        ("task 0", "task.claimed"),
        ("task 0", "task.delivered"),
        ("task 1", "task.claimed"),
        ("task 1", "task.released"),
        ("task 0", "task.completed"),
    ]
    assert feed(api, other) == []
    # and types filter it
    typed = api.get("/events", key=poster.key, query="types=task.claimed,task.cancelled&limit=1").json()
    assert [e["type"] for e in typed["events"]] == ["task.claimed"]
    rest = api.get("/events", key=poster.key, query=f"types=task.claimed,task.cancelled&after={typed['next_cursor']}")
    assert [e["type"] for e in rest.json()["events"]] == ["task.claimed", "task.cancelled"]


def feed(api: Api, agent: Agent) -> list[dict[str, Any]]:
    response = api.get("/events", key=agent.key, query="limit=100")
    assert response.status == 200, response.body
    return list(response.json()["events"])


# ---- failures in the pipeline ---------------------------------------------------------------------------------


def test_an_event_is_sent_iff_its_change_committed_even_if_the_lambda_dies_right_after(
    api: Api, poster: Agent, worker: Agent, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskboard.tasks.store import TaskRepository

    subscribe(api, poster, receiver.url)
    task = api.post_task(poster)
    receiver.wait_for(lambda seen: len(seen) == 1)
    committed = TaskRepository.transact

    def dies_after_commit(self: TaskRepository, actions: list[dict[str, Any]]) -> None:
        committed(self, actions)
        raise RuntimeError("the Lambda was killed after the write")

    def dies_before_commit(self: TaskRepository, actions: list[dict[str, Any]]) -> None:
        raise RuntimeError("the Lambda was killed before the write")

    # a claim whose Lambda dies after its transaction: the caller sees an error, the subscriber the event
    monkeypatch.setattr(TaskRepository, "transact", dies_after_commit)
    assert api.post(f"/tasks/{task['id']}/claim", key=worker.key).status == 500
    monkeypatch.setattr(TaskRepository, "transact", committed)
    assert delivered_types(receiver, 2) == ["task.created", "task.claimed"]

    # a delivery whose Lambda dies before its transaction: no change, so no event, ever
    monkeypatch.setattr(TaskRepository, "transact", dies_before_commit)
    assert api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key).status == 500
    monkeypatch.setattr(TaskRepository, "transact", committed)
    assert api.post(f"/tasks/{task['id']}/release", key=worker.key).status == 200
    assert delivered_types(receiver, 3) == ["task.created", "task.claimed", "task.released"]
    assert [e["type"] for e in board_events(task["id"])] == ["task.created", "task.claimed", "task.released"]


def test_a_fan_out_that_fails_is_retried_from_the_stream_and_nothing_is_lost(
    api: Api, poster: Agent, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskboard.webhooks.delivery import WebhookQueue

    subscribe(api, poster, receiver.url)
    sent = WebhookQueue.send
    failures = {"left": 2}

    def flaky(self: WebhookQueue, messages: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("SQS is unavailable")
        sent(self, messages)

    monkeypatch.setattr(WebhookQueue, "send", flaky)
    tasks = [api.post_task(poster, title=f"t{n}") for n in range(3)]
    receiver.wait_for(lambda seen: len({r.headers["webhook-id"] for r in seen}) == 3)
    assert failures["left"] == 0
    assert {r.json()["data"]["task"]["id"] for r in receiver.received} == {t["id"] for t in tasks}


def test_one_bad_message_does_not_make_its_batch_be_sent_again(
    api: Api, stack: Stack, poster: Agent, receiver: Receiver
) -> None:
    """A batch of four: two good, one that cannot be read, one not due yet. Only the last two stay on the
    queue; the good ones are sent once."""
    from local.stack import LambdaContext
    from taskboard.core.clock import later, to_iso, utc_now
    from taskboard.webhooks.delivery import Message
    from taskboard.webhooks.store import Route

    hook = subscribe(api, poster, receiver.url)
    stack.stop_pollers()  # this test plays the event source mapping itself
    route = Route(poster.id, hook["id"])
    event = {"type": "webhook.test", "timestamp": to_iso(utc_now()), "data": {}}
    bodies = [
        Message(route, event | {"id": "evt_" + "1" * 32}).to_json(),
        "this is not a message",
        Message(route, event | {"id": "evt_" + "2" * 32}, attempt=2, due=to_iso(later(utc_now(), 600))).to_json(),
        Message(route, event | {"id": "evt_" + "3" * 32}).to_json(),
    ]
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = stack.names["WebhookQueue"]
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    records = [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {}}
        for m in received
    ]
    spec = stack.functions["DeliverWebhookFunction"]
    answer = stack.module(spec).handler({"Records": records}, LambdaContext(spec))

    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    by_body = {m["Body"]: m["MessageId"] for m in received}
    assert failed == {by_body[bodies[1]], by_body[bodies[2]]}
    assert sorted(r.headers["webhook-id"] for r in receiver.received) == ["evt_" + "1" * 32, "evt_" + "3" * 32]


def test_a_review_is_an_event_the_worker_is_told_about(
    api: Api, poster: Agent, worker: Agent, receiver: Receiver
) -> None:
    hook = subscribe(api, worker, receiver.url, events=["task.reviewed"])
    task = api.post_task(poster, title="to be reviewed", budget=10)
    api.post(f"/tasks/{task['id']}/claim", key=worker.key)
    api.post(f"/tasks/{task['id']}/deliver", {"result": 1}, key=worker.key)
    api.post(f"/tasks/{task['id']}/complete", key=poster.key)
    reviewed = api.post(f"/tasks/{task['id']}/review", {"rating": 5, "comment": "Thanks!", "tip": 2}, key=poster.key)
    assert reviewed.status == 201, reviewed.body

    assert delivered_types(receiver, 1) == ["task.reviewed"]
    event = verified(hook["secret"], receiver.received[0])
    assert event["data"]["cause"] == "poster" and event["data"]["task"]["id"] == task["id"]
    assert event["data"]["review"] == reviewed.json()["review"]  # the rating, the comment and the tip
    recorded = board_events(task["id"])
    assert [e["type"] for e in recorded] == [
        "task.created",
        "task.claimed",
        "task.delivered",
        "task.completed",
        "task.reviewed",
    ]
    assert [e["data"]["sequence"] for e in recorded] == [1, 2, 3, 4, 5]


def test_order_events_reach_the_sellers_and_the_buyers_webhooks_signed(
    api: Api, poster: Agent, worker: Agent, receiver: Receiver
) -> None:
    """An order's events go out through the same outbox and queue as a task's: the seller hears of the order,
    the buyer of its delivery, each with the order in `data.order`."""
    seller_hook = subscribe(api, worker, receiver.url, events=["order.created"])
    subscribe(api, poster, receiver.url, events=["order.delivered"])
    gig = api.post("/gigs", {"title": "g", "category": "coding", "price": 5, "delivery_days": 1}, key=worker.key)
    placed = api.post("/orders", {"gig_id": gig.json()["id"]}, key=poster.key).json()
    api.post(f"/orders/{placed['id']}/start", key=worker.key)
    api.post(f"/orders/{placed['id']}/deliver", {"message": "done"}, key=worker.key)

    assert sorted(delivered_types(receiver, 2)) == ["order.created", "order.delivered"]
    created = next(r for r in receiver.received if b'"order.created"' in r.body)
    event = verified(seller_hook["secret"], created)
    assert (event["data"]["order"]["id"], event["data"]["order"]["price"]) == (placed["id"], 5)
    assert event["data"]["cause"] == "buyer" and "task" not in event["data"]
