"""The webhook queue: POST each event to its subscriber, signed; schedule a retry or park it when that fails.

A batch's messages are sent in parallel, one lane per subscription and task (a slow endpoint does not hold up
the others), and within a lane in the task's event order. The answer is a partial batch response: only a
message that is not due yet, cannot be read, or whose handling raised stays on the queue (and SQS
dead-letters it after maxReceiveCount tries, when it never works)."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.core import coldstart
from taskboard.runtime import deliverer, logger, metrics, tracer
from taskboard.webhooks.delivery import Message

Lane = list[tuple[dict[str, Any], Message]]


def _lanes(records: list[dict[str, Any]]) -> tuple[list[Lane], list[dict[str, Any]]]:
    """The readable records grouped by lane, each lane in the task's event order; and the unreadable ones."""
    lanes: dict[tuple[str, str], Lane] = defaultdict(list)
    unreadable = []
    for record in records:
        try:
            message = Message.from_json(record["body"])
            lanes[message.lane].append((record, message))
        except (ValueError, KeyError, TypeError, AttributeError):
            logger.error("unreadable webhook message; SQS will dead-letter it", message_id=record.get("messageId"))
            unreadable.append(record)
    return [sorted(lane, key=lambda pair: pair[1].order) for lane in lanes.values()], unreadable


def _send_lane(lane: Lane) -> list[dict[str, Any]]:
    """Deliver a lane's messages in order; returns the records to leave on the queue."""
    left = []
    for record, message in lane:
        try:
            done = deliverer().handle(message, record["receiptHandle"])
        except Exception:
            logger.exception("webhook message failed; SQS will offer it again", message_id=record.get("messageId"))
            done = False
        if not done:
            left.append(record)
    return left


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    lanes, left = _lanes(records)
    with ThreadPoolExecutor(max_workers=max(1, min(10, len(lanes)))) as pool:
        left += [record for kept in pool.map(_send_lane, lanes) for record in kept]
    failures = [{"itemIdentifier": record["messageId"]} for record in left]
    metrics.add_metric(name="WebhookMessagesHandled", unit=MetricUnit.Count, value=len(records) - len(failures))
    return {"batchItemFailures": failures}


coldstart.done()  # the module is built: garbage collection back on (taskboard/core/coldstart.py)
