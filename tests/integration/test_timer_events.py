"""The sample events of the functions that are not endpoints (the streams, the timers, the webhook queue) work as
they are."""

from __future__ import annotations

import json

import boto3

from local.stack import LambdaContext, Stack
from local.template import ROOT

EVENTS = ROOT / "events"


def invoke(stack: Stack, logical_id: str, event: dict) -> dict:
    spec = stack.functions[logical_id]
    return stack.module(spec).handler(event, LambdaContext(spec))


def test_the_stream_event_of_a_claim_starts_the_execution_of_its_bucket(stack: Stack) -> None:
    event = json.loads((EVENTS / "on_task_change.json").read_text())
    answer = invoke(stack, "OnTaskChangeFunction", event)
    assert answer == {"batchItemFailures": []}
    machine = stack.names["DueTimersStateMachine"]
    executions = boto3.client("stepfunctions", region_name="us-east-1").list_executions(stateMachineArn=machine)[
        "executions"
    ]
    # the bucket's own, and (the bucket being long past here) a late one that reads it again
    names = sorted(execution["name"] for execution in executions)
    assert names[0] == "due-20261122T123500Z" and names[1].startswith("due-20261122T123500Z-at-")
    assert len(names) == 2


def test_the_timer_event_is_accepted_and_fires_nothing_in_an_empty_bucket(stack: Stack) -> None:
    event = json.loads((EVENTS / "fire_timers.json").read_text())
    assert invoke(stack, "FireTimersFunction", event) == {"bucket": event["bucket"], "outcomes": {}}


def test_the_stream_event_of_a_claim_queues_one_message_per_interested_subscription(stack: Stack) -> None:
    from taskboard.runtime import subscriptions
    from taskboard.webhooks.delivery import Message
    from taskboard.webhooks.store import Subscription

    event = json.loads((EVENTS / "on_task_event.json").read_text())
    image = event["Records"][0]["dynamodb"]["NewImage"]
    poster, worker = image["feed_poster"]["S"], image["feed_worker"]["S"]
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for account in (poster, worker, "someone-else"):
        dynamodb.put_item(TableName="TasksTable", Item={"pk": {"S": f"ACCOUNT#{account}"}, "sk": {"S": "ACCOUNT"}})
        subscriptions().create(
            Subscription(f"wh_{account[:8]}", account, "https://93.184.215.14/h", "whsec_AAAA", "2026-11-22")
        )
    # the poster's second subscription wants deliveries only
    subscriptions().create(
        Subscription("wh_delivers", poster, "https://93.184.215.14/d", "whsec_AAAA", "2026-11-22", ("task.delivered",))
    )
    stack.stop_pollers()  # read the queue here instead of the delivery function

    assert invoke(stack, "OnTaskEventFunction", event) == {"batchItemFailures": []}

    sqs = boto3.client("sqs", region_name="us-east-1")
    received = sqs.receive_message(QueueUrl=stack.names["WebhookQueue"], MaxNumberOfMessages=10)["Messages"]
    messages = [Message.from_json(m["Body"]) for m in received]
    assert sorted(m.route.webhook_id for m in messages) == sorted([f"wh_{poster[:8]}", f"wh_{worker[:8]}"])
    assert {m.event["id"] for m in messages} == {json.loads(image["envelope"]["S"])["id"]}


def test_the_queue_event_for_a_webhook_that_does_not_exist_is_dropped(stack: Stack) -> None:
    event = json.loads((EVENTS / "deliver_webhook.json").read_text())
    assert invoke(stack, "DeliverWebhookFunction", event) == {"batchItemFailures": []}
