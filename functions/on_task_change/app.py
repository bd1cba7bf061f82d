"""The table's stream: for every committed deadline (a claim's expiry, a delivery's auto-complete), start the
execution that fires its bucket (taskboard.tasks.timers: one execution per bucket, shared by its deadlines).

Starting from the stream, not from the request, means a deadline is fired if and only if its change committed.
The template's filter passes only task states that carry a deadline. Records are processed with partial batch
responses: one failing record is retried without replaying the others of its batch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from taskboard.core import coldstart
from taskboard.core.clock import utc_now
from taskboard.runtime import logger, metrics, scheduler, tracer
from taskboard.tasks.items import state_from_item
from taskboard.tasks.timers import timers_implied

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def on_record(record: DynamoDBRecord) -> None:
    change = record.raw_event["dynamodb"]
    if change.get("Keys", {}).get("sk", {}).get("S") != "STATE" or "NewImage" not in change:
        return  # the template's filter sends only task states; anything else is not ours
    old = change.get("OldImage") or {}
    # what was listed before: a state written without its deadline's index keys (by the board before the
    # shared timers, rewritten by scripts/migrate_listings.py) had none listed, so its deadline is new here
    before = state_from_item(old) if "due_sk" in old else None
    for timer in timers_implied(before, state_from_item(change["NewImage"])):
        started = scheduler().start(timer, utc_now())
        logger.info("timer", task_id=timer.task_id, kind=str(timer.kind), bucket=timer.bucket.iso, started=started)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=on_record, processor=processor, context=context)


coldstart.done()  # the module is built: garbage collection back on (taskboard/core/coldstart.py)
