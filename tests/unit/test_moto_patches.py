"""local/moto_patches.py: each patch keeps working on the moto it was written for (issue 14, item 6).

These tests start moto themselves (mock_aws is process-global: never while a Stack runs, which no test of this
module does). Each one fails if its patch stops working: a transaction copies a table, the registry keeps dead
instances, a shard keeps every record, a waiting execution holds a thread."""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import moto_patches

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def patched() -> None:
    moto_patches.apply()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def test_moto_is_the_version_the_patches_were_written_for() -> None:
    assert moto.__version__ == moto_patches.MOTO_VERSION == "5.2.5", (
        f"moto is {moto.__version__}, local/moto_patches.py was written for {moto_patches.MOTO_VERSION}: re-check "
        "each patch against the new moto (transact_write_items, BaseModel.__new__ and model_data, StreamShard and "
        "ShardIterator, ExecutionWorker and WaitFunction), then update MOTO_VERSION and this test"
    )


def test_apply_is_idempotent() -> None:
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models import DynamoDBBackend

    patched = DynamoDBBackend.transact_write_items, BaseModel.__new__
    moto_patches.apply()
    assert (DynamoDBBackend.transact_write_items, BaseModel.__new__) == patched


# ---- (a) transactions ------------------------------------------------------------------------------------------


def make_table(name: str = "things", stream: bool = True) -> Any:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}),
    )
    return dynamodb


def key(pk: str, sk: str = "x") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def backend_table(name: str = "things") -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT][REGION].get_table(name)


def streams_client() -> Any:
    # as local/services.py's StreamPoller: the classic endpoint, which moto routes
    return boto3.client(
        "dynamodbstreams", region_name=REGION, endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com"
    )


def stream_iterator(streams: Any, kind: str = "TRIM_HORIZON") -> str:
    arn = backend_table().table_arn + "/stream/" + backend_table().latest_stream_label
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return str(streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind)["ShardIterator"])


def read_all(streams: Any, iterator: str, limit: int = 1000) -> tuple[list[dict[str, Any]], str]:
    """Every record the chain from `iterator` reads until one comes back empty; and the chain's next iterator."""
    records: list[dict[str, Any]] = []
    while True:
        answer = streams.get_records(ShardIterator=iterator, Limit=limit)
        iterator = answer["NextShardIterator"]
        records += answer["Records"]
        if not answer["Records"]:
            return records, iterator


def test_a_transaction_copies_no_table(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto deep-copied each table of a transaction once per item; a copy now fails the test."""
    from moto.dynamodb.models.table import Table

    dynamodb = make_table()
    for n in range(50):
        dynamodb.put_item(TableName="things", Item=key(f"seed{n}") | {"v": {"N": "0"}})

    def copied(self: Any, memo: Any) -> Any:
        raise AssertionError(f"table {self.name} deep-copied")

    monkeypatch.setattr(Table, "__deepcopy__", copied, raising=False)
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "things", "Item": key(f"new{n}") | {"v": {"N": str(n)}}}} for n in range(6)
        ]
    )
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "things", "Item": key("more")}},
                {
                    "ConditionCheck": {
                        "TableName": "things",
                        "Key": key("seed0"),
                        "ConditionExpression": "v = :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert len(backend_table().all_items()) == 56


def test_a_failed_transaction_writes_nothing_and_streams_nothing(aws: None) -> None:
    dynamodb = make_table()
    dynamodb.put_item(TableName="things", Item=key("kept") | {"v": {"N": "1"}, "tags": {"L": [{"S": "a"}]}})
    dynamodb.put_item(TableName="things", Item=key("doomed") | {"v": {"N": "1"}})
    streams = streams_client()
    before, iterator = read_all(streams, stream_iterator(streams))
    assert [r["eventName"] for r in before] == ["INSERT", "INSERT"]

    # items 1-3 are written, item 4's condition fails: none of them may stay, nor their stream records
    with pytest.raises(ClientError, match="TransactionCanceled") as failed:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "things",
                        "Key": key("kept"),
                        "UpdateExpression": "SET v = :two, tags[0] = :b",
                        "ExpressionAttributeValues": {":two": {"N": "2"}, ":b": {"S": "b"}},
                    }
                },
                {"Put": {"TableName": "things", "Item": key("new") | {"v": {"N": "9"}}}},
                {"Delete": {"TableName": "things", "Key": key("doomed")}},
                {
                    "Put": {
                        "TableName": "things",
                        "Item": key("kept", "y"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    reasons = failed.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "None", "None", "ConditionalCheckFailed"]
    kept = dynamodb.get_item(TableName="things", Key=key("kept"))["Item"]
    assert kept["v"] == {"N": "1"} and kept["tags"] == {"L": [{"S": "a"}]}  # the update's in-place change undone
    assert "Item" not in dynamodb.get_item(TableName="things", Key=key("new"))
    assert dynamodb.get_item(TableName="things", Key=key("doomed"))["Item"]["v"] == {"N": "1"}
    assert len(backend_table().all_items()) == 2

    # the same item twice: a ValidationException for the whole request, and nothing written either
    with pytest.raises(ClientError, match="ValidationException"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "things", "Item": key("twice")}},
                {"Put": {"TableName": "things", "Item": key("twice")}},
            ]
        )
    assert "Item" not in dynamodb.get_item(TableName="things", Key=key("twice"))

    # a committed transaction streams its items, to the iterator the reader already had (moto swapped in a copied
    # table on rollback, whose shard no earlier iterator read)
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "things", "Item": key("new") | {"v": {"N": "9"}}}},
            {"Delete": {"TableName": "things", "Key": key("doomed")}},
        ]
    )
    after, _ = read_all(streams, iterator)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in after] == [
        ("INSERT", "new"),
        ("REMOVE", "doomed"),
    ]
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in before + after]
    assert sequence == sorted(set(sequence))


# ---- (a') queries ------------------------------------------------------------------------------------------------


def test_a_keyed_query_looks_only_at_its_items(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    dynamodb = make_table(stream=False)
    for n in range(300):
        dynamodb.put_item(TableName="things", Item=key(f"other{n:03}"))
    for sk in ("b", "d", "a", "c"):
        dynamodb.put_item(TableName="things", Item=key("mine", sk))
    compared: list[str] = []
    less, equal = DynamoType.__lt__, DynamoType.__eq__
    monkeypatch.setattr(DynamoType, "__lt__", lambda self, other: compared.append("<") or less(self, other))
    monkeypatch.setattr(DynamoType, "__eq__", lambda self, other: compared.append("=") or equal(self, other))

    def query(pk: str = "mine", **extra: Any) -> dict[str, Any]:
        return dynamodb.query(  # type: ignore[no-any-return]
            TableName="things",
            KeyConditionExpression="pk = :p AND sk > :s",
            ExpressionAttributeValues={":p": {"S": pk}, ":s": {"S": "a"}},
            **extra,
        )

    first = query(Limit=2, ScanIndexForward=False)
    assert [item["sk"]["S"] for item in first["Items"]] == ["d", "c"]
    rest = query(Limit=2, ScanIndexForward=False, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [item["sk"]["S"] for item in rest["Items"]] == ["b"]
    assert len(compared) < 50  # moto sorted and compared all 304 items, twice: thousands of comparisons
    assert query("nobody")["Items"] == []
    assert len(backend_table().items) == 301  # and asking for a missing key added no empty bucket


def test_all_items_keeps_motos_order(aws: None) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="numbers",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "N"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for pk in ("10", "9", "-1", "2.5"):
        for sk in ("100", "20", "3", "0.5", "-7"):
            dynamodb.put_item(TableName="numbers", Item={"pk": {"N": pk}, "sk": {"N": sk}})
    table = backend_table("numbers")
    expected = sorted(
        (item for bucket in table.items.values() for item in bucket.values()),
        key=lambda item: (item.hash_key, item.range_key),  # moto's own sort key
    )
    assert [id(item) for item in table.all_items()] == [id(item) for item in expected]
    assert [i["pk"]["N"] for i in dynamodb.scan(TableName="numbers")["Items"]][::5] == ["-1", "2.5", "9", "10"]


# ---- (b) the instance registry ---------------------------------------------------------------------------------


def test_writes_do_not_grow_the_instance_registry(aws: None) -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord

    dynamodb = make_table()
    dynamodb.put_item(TableName="things", Item=key("warm"))
    gc.collect()
    items, records = len(Item.instances_tracked), len(StreamRecord.instances_tracked)
    for n in range(100):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "things", "Item": key(f"k{i}") | {"n": {"N": str(n)}}}} for i in range(6)
            ]
        )
        dynamodb.update_item(
            TableName="things",
            Key=key("k0"),
            UpdateExpression="SET m = :n",
            ExpressionAttributeValues={":n": {"N": "1"}},
        )
    gc.collect()
    # 800 items were built and replaced, and 700 stream records written: the registry holds what is still used
    assert len(Item.instances_tracked) - items <= 10 + 6
    assert len(StreamRecord.instances_tracked) - records <= moto_patches.STREAM_RECORDS_MAX
    # ... and still lists every live instance (moto's /moto-api/data.json reads it)
    stored = {id(item) for item in backend_table().all_items()}
    assert stored <= {id(item) for item in Item.instances_tracked}


def test_the_registry_is_weak_again_after_a_reset() -> None:
    from moto.core.model_instances import reset_model_data
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    reset_model_data()  # what a mock's reset does: a plain list in each class's place
    assert Item.instances_tracked == []
    item = Item(DynamoType({"S": "a"}), None, {"pk": {"S": "a"}})
    assert isinstance(Item.instances_tracked, moto_patches.WeakInstances)
    assert list(Item.instances_tracked) == [item]
    del item
    gc.collect()
    assert list(Item.instances_tracked) == []
    with mock_aws():
        make_table(stream=False).put_item(TableName="things", Item=key("a"))
        assert len(Item.instances_tracked) >= 1
    assert len(Item.instances_tracked) == 0  # the mock's reset empties it, as before


# ---- (c) stream records ----------------------------------------------------------------------------------------


def test_stream_records_are_bounded(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_patches, "STREAM_RECORDS_KEPT_READ", 20)
    monkeypatch.setattr(moto_patches, "STREAM_RECORDS_MAX", 150)
    monkeypatch.setattr(moto_patches, "SHARD_ITERATORS_MAX", 10)
    dynamodb = make_table()
    streams = streams_client()
    reader = stream_iterator(streams)
    late = stream_iterator(streams)  # a second reader that has read nothing yet holds the records back
    shard = backend_table().stream_shard

    for n in range(100):
        dynamodb.put_item(TableName="things", Item=key(f"k{n}"))
    records, reader = read_all(streams, reader, limit=30)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == [f"k{n}" for n in range(100)]
    assert len(shard.items) == 100  # the late reader has read none of them
    late_records, late = read_all(streams, late, limit=30)
    assert late_records == records
    assert len(shard.items) == 20  # everyone has read them: all but the newest STREAM_RECORDS_KEPT_READ go

    for n in range(100, 200):
        dynamodb.put_item(TableName="things", Item=key(f"k{n}"))
    records, reader = read_all(streams, reader)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == [f"k{n}" for n in range(100, 200)]
    assert len(shard.items) == 120  # held back by the late reader again

    for n in range(200, 400):  # nobody reads: at most STREAM_RECORDS_MAX are kept
        dynamodb.put_item(TableName="things", Item=key(f"k{n}"))
    assert len(shard.items) == 150
    # an iterator behind what was dropped reads on from the oldest record kept; TRIM_HORIZON starts there too
    behind, _ = read_all(streams, late)
    assert behind[0]["dynamodb"]["Keys"]["pk"]["S"] == "k250" and behind[-1]["dynamodb"]["Keys"]["pk"]["S"] == "k399"
    fresh, _ = read_all(streams, stream_iterator(streams))
    assert fresh == behind

    from moto.dynamodbstreams.models import dynamodbstreams_backends

    assert len(dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators) <= 10


def test_a_reader_idle_for_long_holds_nothing_back(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_patches, "STREAM_RECORDS_KEPT_READ", 0)
    dynamodb = make_table()
    streams = streams_client()
    reader = stream_iterator(streams)
    stream_iterator(streams)  # a reader that never reads (a stopped poller)
    for n in range(10):
        dynamodb.put_item(TableName="things", Item=key(f"k{n}"))
    _, reader = read_all(streams, reader)
    assert len(backend_table().stream_shard.items) == 10
    monkeypatch.setattr(moto_patches, "STREAM_READER_IDLE_SECONDS", 0.2)
    time.sleep(0.3)  # both readers idle for longer than that; then one reads again
    read_all(streams, reader)
    assert len(backend_table().stream_shard.items) == 0


# ---- (d) timers ------------------------------------------------------------------------------------------------


def wait_machine(wait: dict[str, Any], then: dict[str, Any] | None = None) -> str:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"sfn-{time.monotonic_ns()}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    states: dict[str, Any] = {"Waiting": {"Type": "Wait", **wait}}
    if then is None:
        states["Waiting"]["End"] = True
    else:
        states["Waiting"]["Next"] = "Then"
        states["Then"] = then | {"End": True}
    definition = {"StartAt": "Waiting", "States": states}
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return str(
        sfn.create_state_machine(name=f"m{time.monotonic_ns()}", definition=json.dumps(definition), roleArn=role)[
            "stateMachineArn"
        ]
    )


def until(condition: Any, seconds: float) -> bool:
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_waiting_executions_hold_no_thread_and_stop_aborted(aws: None) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = wait_machine({"Seconds": 60})
    threads = threading.active_count()
    arns = [sfn.start_execution(stateMachineArn=machine, name=f"e{n}", input="{}")["executionArn"] for n in range(50)]
    time.sleep(0.3)  # moto would have started its two threads per execution by now
    assert threading.active_count() <= threads + 2, threading.enumerate()  # the one timer thread, at most
    assert len(moto_patches.TIMERS) == 50
    assert {sfn.describe_execution(executionArn=arn)["status"] for arn in arns} == {"RUNNING"}
    history = sfn.get_execution_history(executionArn=arns[0])["events"]
    assert [event["type"] for event in history] == ["ExecutionStarted"]

    for arn in arns:
        sfn.stop_execution(executionArn=arn)
    assert {sfn.describe_execution(executionArn=arn)["status"] for arn in arns} == {"ABORTED"}
    assert len(moto_patches.TIMERS) == 0
    history = sfn.get_execution_history(executionArn=arns[0])["events"]
    assert [event["type"] for event in history] == ["ExecutionStarted", "ExecutionAborted"]
    assert sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"] == []


@pytest.fixture
def lambda_calls(aws: None) -> Iterator[list[tuple[float, Any]]]:
    """A Lambda function `Fn` whose invocations (time, event) are recorded, run in-process as the local stack
    runs them (local/services.py route_lambda_invocations)."""
    from local.services import route_lambda_invocations

    calls: list[tuple[float, Any]] = []

    def invoke(spec: Any, event: Any) -> Any:
        calls.append((time.time(), event))
        return {"fired": event}

    role = boto3.client("iam", region_name=REGION).create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]
    import io
    import zipfile

    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "")
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="Fn",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )
    route_lambda_invocations(invoke, {"Fn": object()})  # type: ignore[dict-item]
    try:
        yield calls
    finally:
        route_lambda_invocations(None, {})


TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Fn", "Payload.$": "$"},
    "OutputPath": "$.Payload",
}


def test_a_short_wait_still_runs_its_task_on_time(lambda_calls: list[tuple[float, Any]]) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = wait_machine({"TimestampPath": "$.fire_at"}, TASK)
    fire_at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0) + timedelta(seconds=1)
    payload = {"fire_at": fire_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "task_id": "t1"}
    arn = sfn.start_execution(stateMachineArn=machine, name="timer", input=json.dumps(payload))["executionArn"]
    assert len(moto_patches.TIMERS) == 1  # parked, not waiting in a thread of its own
    assert until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", 10)
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"fired": payload}
    ((called, event),) = lambda_calls
    assert event == payload
    assert fire_at.timestamp() <= called < fire_at.timestamp() + 2  # on time, never early
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types[:3] == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited"]
    assert types[-1] == "ExecutionSucceeded"


def test_a_seconds_wait_runs_its_task_and_a_stopped_one_does_not(lambda_calls: list[tuple[float, Any]]) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = wait_machine({"Seconds": 1}, TASK)
    started = time.time()
    kept = sfn.start_execution(stateMachineArn=machine, name="kept", input='{"n": 1}')["executionArn"]
    stopped = sfn.start_execution(stateMachineArn=machine, name="stopped", input='{"n": 2}')["executionArn"]
    sfn.stop_execution(executionArn=stopped)
    assert until(lambda: sfn.describe_execution(executionArn=kept)["status"] == "SUCCEEDED", 10)
    time.sleep(0.5)
    assert [event for _, event in lambda_calls] == [{"n": 1}]
    assert lambda_calls[0][0] >= started + 1
    assert sfn.describe_execution(executionArn=stopped)["status"] == "ABORTED"


def test_other_machines_run_on_motos_own_threads(lambda_calls: list[tuple[float, Any]]) -> None:
    """A machine that does not start with a Wait (here: a Pass first) is not parked, and still runs."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="plain", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    definition = {
        "StartAt": "First",
        "States": {"First": {"Type": "Pass", "Next": "Call"}, "Call": TASK | {"End": True}},
    }
    machine = sfn.create_state_machine(name="plain", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 3}')["executionArn"]
    assert len(moto_patches.TIMERS) == 0
    assert until(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED", 10)
    assert [event for _, event in lambda_calls] == [{"n": 3}]


def test_a_reset_forgets_parked_executions() -> None:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        sfn.start_execution(stateMachineArn=wait_machine({"Seconds": 3600}), input="{}")
        assert len(moto_patches.TIMERS) == 1
    assert len(moto_patches.TIMERS) == 0


@pytest.mark.parametrize(
    ("wait", "data", "parked"),
    [
        ({"Seconds": 30}, {}, True),
        ({"SecondsPath": "$.s"}, {"s": 30}, True),
        ({"SecondsPath": "$.s"}, {"s": "30"}, False),  # moto fails it: its own path
        ({"TimestampPath": "$.at.when"}, {"at": {"when": "2999-01-01T00:00:00Z"}}, False),  # beyond TimeoutSeconds
        ({"TimestampPath": "$.when"}, {"when": "2000-01-01T00:00:00Z"}, False),  # past: no wait
        ({"TimestampPath": "$.when"}, {"when": "tomorrow"}, False),
        ({"TimestampPath": "$.when"}, {"when": "SOON"}, True),
        ({"Timestamp": "SOON"}, {}, True),
        ({"TimestampPath": "$['when']"}, {"when": "SOON"}, False),  # a JSONPath it does not read
        ({"Seconds": 30, "InputPath": "$.inner"}, {"inner": {}}, True),
        ({"Seconds": 30, "InputPath": "$.missing"}, {"inner": {}}, False),  # moto fails it: its own path
    ],
)
def test_which_waits_are_parked(wait: dict[str, Any], data: dict[str, Any], parked: bool) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=30.5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # SOON: in 30.5 s
    machine = {"StartAt": "W", "TimeoutSeconds": 86400, "States": {"W": {"Type": "Wait", **wait, "End": True}}}
    definition = json.dumps(machine).replace("SOON", soon)
    deadline = moto_patches._first_wait_deadline(definition, json.loads(json.dumps(data).replace("SOON", soon)))
    assert (deadline is not None) is parked
    if deadline is not None:
        assert abs(deadline - time.time() - 30) < 1
