"""The template's AWS resources on moto, and the managed glue Lambda would provide: invoking a function from a
state machine, and polling a table's stream into a function (an event source mapping).

Only the local stack uses this; deployed, AWS does all of it."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any

from local.template import FunctionSpec, functions, resolve, resources, tables

REGION = "us-east-1"
ACCOUNT = "123456789012"
_ROLE = "local-stack-role"
Invoke = Callable[[FunctionSpec, Any], Any]
_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# the local stack runs the real handler in-process\n")
    return buffer.getvalue()


def provision(template: dict[str, Any], names: dict[str, str]) -> dict[str, str]:
    """Create the template's tables, queues, functions and state machines in moto. Returns `names` completed
    with what !Ref and !GetAtt of each resource resolve to here."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for logical_id, args in tables(template).items():
        table = dynamodb.create_table(**args)["TableDescription"]
        names[logical_id] = args["TableName"]
        names[f"{logical_id}.Arn"] = table["TableArn"]
        if table.get("LatestStreamArn"):
            names[f"{logical_id}.StreamArn"] = table["LatestStreamArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queues = resources(template, "AWS::SQS::Queue")
    # dead-letter queues first: a queue's RedrivePolicy names its dead-letter queue's ARN
    for logical_id, props in sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]):
        attributes = {name: str(props[name]) for name in _QUEUE_ATTRIBUTES if name in props}
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            target = resolve(policy["deadLetterTargetArn"], names)
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": target, "maxReceiveCount": policy["maxReceiveCount"]}
            )
        url = sqs.create_queue(QueueName=logical_id, Attributes=attributes)["QueueUrl"]
        names[logical_id] = url
        names[f"{logical_id}.Arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{logical_id}"
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=_ROLE, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    awslambda = boto3.client("lambda", region_name=REGION)
    code = _placeholder_zip()
    for logical_id, spec in functions(template).items():
        arn = awslambda.create_function(
            FunctionName=logical_id, Runtime="python3.12", Role=role, Handler=spec.handler, Code={"ZipFile": code}
        )["FunctionArn"]
        names[logical_id] = logical_id
        names[f"{logical_id}.Arn"] = arn
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    from local.template import ROOT

    for logical_id, props in resources(template, "AWS::Serverless::StateMachine").items():
        definition = (ROOT / props["DefinitionUri"]).read_text()
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", resolve(value, names))
        arn = stepfunctions.create_state_machine(name=logical_id, definition=definition, roleArn=role)[
            "stateMachineArn"
        ]
        names[logical_id] = arn
        names[f"{logical_id}.Name"] = logical_id
    return names


def route_lambda_invocations(invoke: Invoke | None, specs: dict[str, FunctionSpec]) -> None:
    """moto would run an invoked function in Docker; here it runs in this process (a state machine's task)."""
    from moto.awslambda.models import LambdaFunction

    if invoke is None:
        LambdaFunction.invoke = getattr(LambdaFunction, "_moto_invoke", LambdaFunction.invoke)  # type: ignore[method-assign]
        return
    if not hasattr(LambdaFunction, "_moto_invoke"):
        LambdaFunction._moto_invoke = LambdaFunction.invoke  # type: ignore[attr-defined]

    def in_process(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        event = json.loads(body) if body else {}
        try:
            result = invoke(specs[self.function_name], event)
        except Exception as error:  # what Lambda reports for an unhandled error: its type names the error
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {"errorType": type(error).__name__, "errorMessage": str(error)}
        return json.dumps(result).encode()

    LambdaFunction.invoke = in_process  # type: ignore[method-assign]


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style pattern matching, the subset Lambda filter criteria here use: nested objects, lists of
    allowed values, {"prefix": ...} and {"exists": true|false}."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for name, wanted in pattern.items():
            exists = [option["exists"] for option in wanted if isinstance(option, dict) and "exists" in option]
            if isinstance(wanted, list) and exists:
                if (name in value) != exists[0]:
                    return False
            elif name not in value or not matches(wanted, value[name]):
                return False
        return True
    if isinstance(pattern, list):
        return any(
            (
                isinstance(option, dict)
                and "prefix" in option
                and isinstance(value, str)
                and value.startswith(option["prefix"])
            )
            or option == value
            for option in pattern
        )
    return bool(pattern == value)


class StreamPoller(threading.Thread):
    """A DynamoDB event source mapping: reads the stream, filters, invokes the function with batches, and on
    a partial batch failure retries from the first failed record (then gives up on it after `max_retries`)."""

    def __init__(self, spec: FunctionSpec, source: dict[str, Any], stream_arn: str, invoke: Invoke) -> None:
        super().__init__(name=f"stream-{spec.logical_id}", daemon=True)
        self.spec, self.stream_arn, self.invoke = spec, stream_arn, invoke
        self.batch_size = int(source.get("BatchSize", 100))
        self.max_retries = int(source.get("MaximumRetryAttempts", 3))
        self.patterns = [json.loads(f["Pattern"]) for f in source.get("FilterCriteria", {}).get("Filters", [])]
        self.stopping = threading.Event()
        self.errors: list[str] = []

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)

    def run(self) -> None:
        import boto3

        # botocore now aims at an account-based endpoint that moto does not route; the classic one works.
        streams = boto3.client(
            "dynamodbstreams", region_name=REGION, endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com"
        )
        shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        pending: list[dict[str, Any]] = []
        while not self.stopping.is_set():
            if not pending:
                response = streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                iterator = response["NextShardIterator"]
                pending = [self._lambda_record(r) for r in response["Records"]]
                pending = [r for r in pending if not self.patterns or any(matches(p, r) for p in self.patterns)]
            if pending:
                pending = self._deliver(pending)
            else:
                self.stopping.wait(0.1)

    def _deliver(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for attempt in range(self.max_retries + 1):
            try:
                answer = self.invoke(self.spec, {"Records": batch}) or {}
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            except Exception as error:
                failed = {batch[0]["dynamodb"]["SequenceNumber"]}
                self.errors.append(repr(error))
            if not failed:
                return []
            first = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
            batch = batch[first:]
            time.sleep(min(0.1 * 2**attempt, 2))
        self.errors.append(f"gave up on {len(batch)} records after {self.max_retries} retries")
        return []

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = created.timestamp()
        return {
            "eventID": record.get("eventID"),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": change,
            "eventSourceARN": self.stream_arn,
        }


class QueuePoller(threading.Thread):
    """An SQS event source mapping: receives up to BatchSize messages, invokes the function with them, and
    deletes those it did not report as failed. A failed message stays invisible until its visibility timeout
    (which the function may have changed) runs out, and moves to the dead-letter queue after the queue's
    maxReceiveCount: SQS (moto) does that part itself."""

    def __init__(self, spec: FunctionSpec, source: dict[str, Any], queue_url: str, queue_arn: str, invoke: Invoke):
        super().__init__(name=f"queue-{spec.logical_id}", daemon=True)
        self.spec, self.queue_url, self.queue_arn, self.invoke = spec, queue_url, queue_arn, invoke
        self.batch_size = int(source.get("BatchSize", 10))
        self.stopping = threading.Event()
        self.errors: list[str] = []

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=15)

    def run(self) -> None:
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        while not self.stopping.is_set():
            # no long polling: every moto call holds the stack's one lock, so a waiting receive would stall it
            received = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                self.stopping.wait(0.1)
                continue
            records = [self._lambda_record(m) for m in received]
            try:
                answer = self.invoke(self.spec, {"Records": records}) or {}
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            except Exception as error:  # the whole batch failed: every message comes back after its timeout
                self.errors.append(repr(error))
                continue
            done = [m for m in received if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
                )

    def _lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }


def event_pollers(template: dict[str, Any], names: dict[str, str], invoke: Invoke) -> list[StreamPoller | QueuePoller]:
    """One poller per DynamoDB stream or SQS event of every function, as the template subscribes them."""
    pollers: list[StreamPoller | QueuePoller] = []
    for spec in functions(template).values():
        for event in spec.events.values():
            source = event["Properties"]
            if event["Type"] == "DynamoDB":
                pollers.append(StreamPoller(spec, source, resolve(source["Stream"], names), invoke))
            elif event["Type"] == "SQS":
                arn = resolve(source["Queue"], names)
                url = next(names[name] for name in names if names.get(f"{name}.Arn") == arn)
                pollers.append(QueuePoller(spec, source, url, arn, invoke))
    return pollers
