"""The sample events of the functions that are not endpoints (the stream and the timers) work as they are."""

from __future__ import annotations

import json

import boto3

from local.stack import LambdaContext, Stack
from local.template import ROOT

EVENTS = ROOT / "events"


def invoke(stack: Stack, logical_id: str, event: dict) -> dict:
    spec = stack.functions[logical_id]
    return stack.module(spec).handler(event, LambdaContext(spec))


def test_the_stream_event_of_a_claim_starts_its_expiry_timer(stack: Stack) -> None:
    event = json.loads((EVENTS / "on_task_change.json").read_text())
    answer = invoke(stack, "OnTaskChangeFunction", event)
    assert answer == {"batchItemFailures": []}
    machine = stack.names["ClaimExpiryStateMachine"]
    (execution,) = boto3.client("stepfunctions", region_name="us-east-1").list_executions(stateMachineArn=machine)[
        "executions"
    ]
    assert execution["name"] == "0f8fad5b-d9cb-469f-a165-70867728950e-expiry-1-20261122123500000000"


def test_the_timer_events_are_accepted_and_do_nothing_for_an_unknown_task(stack: Stack) -> None:
    for logical_id, name in (("ExpireClaimFunction", "expire_claim"), ("AutoCompleteFunction", "auto_complete")):
        event = json.loads((EVENTS / f"{name}.json").read_text())
        assert invoke(stack, logical_id, event) == {"task_id": event["task_id"], "outcome": "noop"}
