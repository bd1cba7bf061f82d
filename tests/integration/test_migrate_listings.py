"""scripts/migrate_listings.py: a table written before the shared timers (a TAG#* listing item per task, no
index keys on STATE, a delivered task's auto-complete on an execution of its own) moves onto today's layout,
and a delivered task's deadline fires through its bucket afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3

from local.stack import Stack
from scripts.migrate_listings import migrate
from taskboard.core.clock import utc_now
from taskboard.runtime import board
from tests.support import Agent, Api

TABLE = "TasksTable"
INDEX_KEYS = ("all_pk", "all_sk", "avail_pk", "avail_sk", "status_pk", "status_sk", "due_pk", "due_sk")


def dynamodb() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


def to_old_layout(task_id: str) -> None:
    """What the board wrote before: the '*' listing as its own item, and a STATE without index keys."""
    key = {"pk": {"S": f"TASK#{task_id}"}, "sk": {"S": "STATE"}}
    state = dynamodb().get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    listing = {"pk": key["pk"], "sk": {"S": "TAG#*"}, "task_id": {"S": task_id}, "budget": state["budget"]}
    listing |= {name: state[name] for name in INDEX_KEYS[:6] if name in state}
    listing |= {name: state[name] for name in ("poster_id", "requires_human", "past_workers") if name in state}
    dynamodb().put_item(TableName=TABLE, Item=listing)
    dynamodb().put_item(TableName=TABLE, Item={k: v for k, v in state.items() if k not in INDEX_KEYS})


def items_of(task_id: str) -> dict[str, dict[str, Any]]:
    found = dynamodb().query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TASK#{task_id}"}},
        ConsistentRead=True,
    )["Items"]
    return {item["sk"]["S"]: item for item in found}


def test_old_tasks_move_onto_the_new_layout_once_and_their_deadlines_fire(
    stack: Stack, api: Api, poster: Agent, worker: Agent
) -> None:
    untouched = api.post_task(poster, tags=["old"])
    delivered = api.post_task(poster, tags=["old"], auto_complete_seconds=30)
    api.post(f"/tasks/{delivered['id']}/claim", key=worker.key)
    board().clock = lambda: utc_now() - timedelta(seconds=27)  # delivered "27 s ago": auto-completes ~3 s on
    api.post(f"/tasks/{delivered['id']}/deliver", {"result": 1}, key=worker.key)
    board().clock = utc_now
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    wait_until(lambda: bool(running(stack)), 5)  # the delivery's bucket: the old layout had none, stop it
    for execution in running(stack):
        sfn.stop_execution(executionArn=execution["executionArn"])
    for task in (untouched, delivered):
        to_old_layout(task["id"])
    assert "TAG#*" in items_of(delivered["id"]) and "due_pk" not in items_of(delivered["id"])["STATE"]

    done = migrate(dynamodb(), TABLE)
    assert (done.tasks, done.moved, done.skipped, done.busy) == (2, 2, 0, [])
    for task in (untouched, delivered):
        items = items_of(task["id"])
        assert "TAG#*" not in items and items["STATE"]["all_pk"] == {"S": "*"}
        assert "TAG#old" in items  # the tag's own listing stays
    assert items_of(delivered["id"])["STATE"]["due_sk"]["S"].endswith("#autocomplete#1")
    assert migrate(dynamodb(), TABLE).moved == 0  # twice changes nothing

    # the rewrite reached the stream like any change: the delivery's bucket fires it
    wait_until(lambda: api.get(f"/tasks/{delivered['id']}").json()["status"] == "completed", 15)
    listed = api.get("/tasks", query="status=open").json()["tasks"]
    assert [task["id"] for task in listed] == [untouched["id"]]


def running(stack: Stack) -> list[dict[str, Any]]:
    return boto3.client("stepfunctions", region_name="us-east-1").list_executions(  # type: ignore[no-any-return]
        stateMachineArn=stack.names["DueTimersStateMachine"], statusFilter="RUNNING"
    )["executions"]


def wait_until(done: Callable[[], bool], seconds: float) -> None:
    limit = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < limit, f"not within {seconds} s"
        time.sleep(0.2)
