"""The table's stream: every committed domain event goes to the webhook queue, once per interested subscription.

Reading the stream (not sending from the request) means a message exists if and only if its event's change
committed. Records are processed with partial batch responses: a failing record is retried alone."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from taskboard.core import coldstart
from taskboard.runtime import logger, metrics, queue, subscriptions, tracer
from taskboard.webhooks.fanout import Fanout

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def handler_for(fanout: Fanout) -> Any:
    def on_record(record: DynamoDBRecord) -> None:
        change = record.raw_event["dynamodb"]
        sort_key = change.get("Keys", {}).get("sk", {}).get("S", "")
        if record.raw_event.get("eventName") != "INSERT" or not sort_key.startswith("EVENT#"):
            return  # the template's filter sends only new events; anything else is not ours
        messages = fanout.messages(change["NewImage"])
        queue().send(messages)
        metrics.add_metric(name="WebhookMessagesQueued", unit=MetricUnit.Count, value=len(messages))
        logger.debug("event fanned out", sort_key=sort_key, messages=len(messages))

    return on_record


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    on_record = handler_for(Fanout(subscriptions()))  # a cache of subscriptions for this batch only
    return process_partial_response(event=event, record_handler=on_record, processor=processor, context=context)


coldstart.done()  # the module is built: garbage collection back on (taskboard/core/coldstart.py)
