"""The webhook queue: POST each event to its subscriber, signed; schedule a retry or park it when that fails.

A batch's messages are sent in parallel, one lane per subscription and task (a slow endpoint does not hold up
the others), and within a lane in the task's event order. The answer is a partial batch response: only a
message that is not due yet, or whose handling raised, stays on the queue."""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from taskboard.delivery import Message
from taskboard.runtime import deliverer, logger, metrics, tracer


def _one(record: dict[str, Any]) -> bool:
    try:
        return deliverer().handle(Message.from_json(record["body"]), record["receiptHandle"])
    except Exception:
        logger.exception("webhook message failed; SQS will offer it again", message_id=record.get("messageId"))
        return False


def _lanes(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Records grouped by (subscription, task), each group in the task's event order."""
    lanes: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for record in records:
        try:
            data = json.loads(record["body"])
            event = data["event"]
            task = (event.get("data") or {}).get("task") or {}
            lane = (str(data["webhook_id"]), str(task.get("id", event["id"])))
            order = int((event.get("data") or {}).get("sequence", 0))
        except (ValueError, KeyError, TypeError, AttributeError):
            lane, order = ("", record["messageId"]), 0  # malformed: alone in its lane; _one reports it
        lanes[lane].append((order, record))
    return [[record for _, record in sorted(lane, key=lambda pair: pair[0])] for lane in lanes.values()]


def _lane(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
    return [(record, _one(record)) for record in records]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    lanes = _lanes(records)
    with ThreadPoolExecutor(max_workers=max(1, min(10, len(lanes)))) as pool:
        outcomes = [pair for lane in pool.map(_lane, lanes) for pair in lane]
    failures = [{"itemIdentifier": record["messageId"]} for record, ok in outcomes if not ok]
    metrics.add_metric(name="WebhookMessagesHandled", unit=MetricUnit.Count, value=len(records) - len(failures))
    return {"batchItemFailures": failures}
