"""moto patches that keep a long-running local stack fast and small (issue 14, item 6).

Without them the local stack (local/stack.py) slows down and grows with every write it has ever served: 50
task lifecycles over HTTP took 5x longer at the end than at the start, and the process reached 3.5 GB and 200+
threads. Five causes, one patch each:

- `_cheap_transactions`: TransactWriteItems deep-copied every table it touched, once per item, to roll back.
- `_keyed_queries`: a Query on a table's key sorted the whole table to find its few items.
- `_weak_instance_registry`: every moto model instance ever created (copies included) was kept in a list.
- `_bounded_streams`: DynamoDB stream records (and shard iterators) were kept forever.
- `_parked_timers`: every Step Functions execution held its own threads while in its Wait state.

`apply()` installs them all, once per process (it is idempotent); Stack.start() calls it. They were written
against moto MOTO_VERSION (tests/unit/test_moto_patches.py pins it): re-check each one against a new moto."""

from __future__ import annotations

import contextlib
import copy
import datetime
import decimal
import heapq
import itertools
import json
import math
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

MOTO_VERSION = "5.2.5"

STREAM_RECORDS_MAX = 10_000  # records a shard keeps at most, read or not (DynamoDB keeps 24 h of them)
STREAM_RECORDS_KEPT_READ = 1_000  # the newest records kept even when every reader has read them (a late reader)
STREAM_READER_IDLE_SECONDS = 900.0  # a reader that has not read for this long no longer holds records back
SHARD_ITERATORS_MAX = 1_000  # iterators kept per streams backend; older ones have expired (AWS: after 15 min)

_applied = False
_apply_lock = threading.Lock()


def apply() -> None:
    """Install every patch (once: later calls do nothing)."""
    global _applied
    with _apply_lock:
        if _applied:
            return
        _cheap_transactions()
        _keyed_queries()
        _weak_instance_registry()
        _bounded_streams()
        _parked_timers()
        _applied = True


def _mark(*functions: Any) -> None:
    """Mark the replacements, so that a second apply (after a reload of this module) finds them in place."""
    for function in functions:
        function._moto_patches = True


# ---- (a) transactions ------------------------------------------------------------------------------------------


class _Journal:
    """What a transaction changed, to undo it: the items it touched as they were, and where each stream ended."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.items: list[tuple[Any, Any, Any, Any]] = []  # (table, hash key, range key, item before or None)
        self.streams: dict[int, tuple[Any, int]] = {}  # id(shard) -> (shard, its next sequence number before)

    def keep(self, table_name: str, key: dict[str, Any], op_type: str) -> None:
        table = self.backend.get_table(table_name)
        hash_key, range_key = self.backend.get_keys_value(table, key)
        before = table.get_item(hash_key, range_key)
        # Put and Delete replace or remove the stored Item and leave it intact; Update changes it in place.
        if before is not None and op_type == "Update":
            before = copy.deepcopy(before)
        self.items.append((table, hash_key, range_key, before))
        shard = table.stream_shard
        if shard is not None and id(shard) not in self.streams:
            self.streams[id(shard)] = (shard, _stream_end(shard))

    def rollback(self) -> None:
        for table, hash_key, range_key, before in reversed(self.items):
            if table.range_key_attr is not None:
                bucket = table.items[hash_key]
                if before is None:
                    bucket.pop(range_key, None)
                else:
                    bucket[range_key] = before
            elif before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
        for shard, end in self.streams.values():
            del shard.items[max(end - shard.starting_sequence_number, 0) :]
        self.items.clear()
        self.streams.clear()


def _stream_end(shard: Any) -> int:
    """The sequence number the shard's next record gets (moto numbers them from starting_sequence_number)."""
    return int(shard.starting_sequence_number) + len(shard.items)


def _cheap_transactions() -> None:
    """(a) moto's DynamoDBBackend.transact_write_items, before it writes anything, deep-copies each table an item of
    the transaction names, once per item (so a six-item transaction on one table copies it six times), and rolls
    back by putting the copies in the tables' place. A copy holds every item of the table and every stream record
    it ever produced, so each transaction costs time and memory in proportion to everything written before: the
    local stack slowed down with every lifecycle, and with the instance registry (b) kept every copy alive.

    The patch is moto's transact_write_items with a journal instead of the copies: right before an item's write
    it keeps that one item as it was (a reference for Put and Delete, which replace the stored Item; a copy for
    Update, which changes it in place) and, once per table, where the table's stream ended. A rollback puts those
    items back (or removes those that did not exist) and cuts the stream back to where it ended, so a failed
    condition in item 3 leaves items 1-2 unwritten and no stream record of them, as before. Unlike moto, any
    error that aborts the request rolls back (moto kept earlier items when an entry had two operations)."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend, get_filter_expression

    if getattr(DynamoDBBackend.transact_write_items, "_moto_patches", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        journal = _Journal(self)
        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
        try:
            for item in transact_items:
                original_item: dict[str, Any] | None = None
                if len(list(item.keys())) > 1:
                    raise TransactWriteSingleOpException
                try:
                    op_type, op = next(iter(item.items()))
                    if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                        raise ValueError("Unsupported transaction operation")
                    table_name = op["TableName"]
                    condition_expression = op.get("ConditionExpression")
                    expression_attribute_names = op.get("ExpressionAttributeNames")
                    expression_attribute_values = op.get("ExpressionAttributeValues")
                    return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")
                    if op_type == "Put":
                        attrs = op["Item"]
                        table = self.get_table(table_name)
                        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                        if table.range_key_attr is not None:
                            key[table.range_key_attr] = attrs[table.range_key_attr]
                    else:
                        key = op["Key"]
                    check_unicity(table_name, key)
                    current = self.get_item(table_name, key)
                    if condition_expression is not None:
                        condition_op = get_filter_expression(
                            condition_expression, expression_attribute_names, expression_attribute_values
                        )
                        if not condition_op.expr(current):
                            if return_values_on_condition_check_failure == "ALL_OLD" and current:
                                original_item = current.to_json()["Attributes"]
                            raise ConditionalCheckFailed(item=original_item)
                    if op_type != "ConditionCheck":
                        journal.keep(table_name, key, op_type)
                    if op_type == "Put":
                        self.put_item(
                            table_name,
                            op["Item"],
                            condition_expression=condition_expression,
                            expression_attribute_names=expression_attribute_names,
                            expression_attribute_values=expression_attribute_values,
                        )
                    elif op_type == "Delete":
                        self.delete_item(
                            table_name,
                            key,
                            condition_expression=condition_expression,
                            expression_attribute_names=expression_attribute_names,
                            expression_attribute_values=expression_attribute_values,
                        )
                    elif op_type == "Update":
                        self.update_item(
                            table_name,
                            key,
                            update_expression=op["UpdateExpression"],
                            condition_expression=condition_expression,
                            expression_attribute_names=expression_attribute_names,
                            expression_attribute_values=expression_attribute_values,
                        )
                    errors.append((None, None, None))
                except (MultipleTransactionsException, MockValidationException):
                    raise  # the whole request fails (rolled back below)
                except ConditionalCheckFailed as e:
                    errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
                except Exception as e:
                    errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]
            if any(code is not None for code, _, _ in errors):
                raise TransactionCanceledException(errors)
        except BaseException:
            journal.rollback()
            raise

    _mark(transact_write_items)
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# ---- (e) queries (the cause left once (a)-(d) were in place) ---------------------------------------------------------

_query_scope = threading.local()  # id(table) -> the only items Table.all_items returns, during a keyed query


def _key_value(value: Any) -> Any:
    """What DynamoType compares a key by (its cast_value) for the key types (S, N, B), without its method calls."""
    if value.type == "N":
        return decimal.Decimal(value.value)
    return value.value


def _keyed_queries() -> None:
    """(e) moto's Table.query, for a query on the table's own key (no IndexName), takes all_items() (every item of
    the table, sorted by key with Python-level DynamoType comparisons) and keeps the items whose hash key is the
    query's. So each query costs O(n log n) in the size of the table, however few items it returns: with ~8 items
    a task, after 150 lifecycles a query took 60 ms and a lifecycle makes ~10 of them (the handlers' and the
    stream functions'), which made the last lifecycles 1.7x slower than the first once (a)-(d) were in place.

    The patch hands such a query only the items of its hash key (the table's dict already groups them by hash
    key; moto then sorts them by range key and pages, filters and projects as before), through a thread-local
    scope that Table.all_items consults; and all_items (scans, index queries) sorts by the keys' plain values
    instead of DynamoType objects: the same order, since DynamoType orders by that value (its cast_value)."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_moto_patches", False):
        return
    moto_query = Table.query

    def all_items(self: Any) -> list[Any]:
        scoped = getattr(_query_scope, "tables", None)
        if scoped and id(self) in scoped:
            return list(scoped[id(self)])
        if self.range_key_attr:
            items = [item for bucket in self.items.values() for item in bucket.values()]
            return sorted(items, key=lambda item: (_key_value(item.hash_key), _key_value(item.range_key)))
        return sorted(self.items.values(), key=lambda item: _key_value(item.hash_key))

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return moto_query(self, hash_key, *args, **kwargs)
        found = self.items.get(hash_key)  # .get: the defaultdict must not grow an empty bucket
        if found is None:
            bucket: list[Any] = []
        else:
            bucket = list(found.values()) if self.range_key_attr else [found]
        scoped = _query_scope.__dict__.setdefault("tables", {})
        scoped[id(self)] = bucket
        try:
            return moto_query(self, hash_key, *args, **kwargs)
        finally:
            scoped.pop(id(self), None)

    _mark(all_items, query)
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]


# ---- (b) the instance registry ---------------------------------------------------------------------------------


class _Ref(weakref.ref):  # type: ignore[type-arg]
    """A weak reference that knows its registry key."""

    __slots__ = ("key",)
    key: int

    def __new__(cls, instance: Any, callback: Callable[[Any], None], key: int) -> _Ref:
        ref = super().__new__(cls, instance, callback)
        ref.key = key
        return ref

    def __init__(self, instance: Any, callback: Callable[[Any], None], key: int) -> None:
        super().__init__(instance, callback)  # type: ignore[call-arg]


class WeakInstances:
    """What a moto class's `instances_tracked` list is used for (append, iterate, len), holding its instances
    weakly: an instance nothing else uses goes away and leaves the registry by itself. Keyed by id, not a WeakSet,
    because moto models define __eq__ and are therefore unhashable."""

    __slots__ = ("__weakref__", "_refs")

    def __init__(self, instances: Any = ()) -> None:
        self._refs: dict[int, _Ref] = {}
        for instance in instances:
            self.append(instance)

    def append(self, instance: Any) -> None:
        key = id(instance)
        with contextlib.suppress(TypeError):  # not weakly referenceable (__slots__, no __weakref__): not tracked
            self._refs[key] = _Ref(instance, self._gone, key)

    def _gone(self, ref: Any) -> None:
        key = ref.key
        if self._refs.get(key) is ref:
            self._refs.pop(key, None)

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                refs = list(self._refs.values())
                break
            except RuntimeError:  # an instance died (and left) while the list was being taken: again
                continue
        for ref in refs:
            instance = ref()
            if instance is not None:
                yield instance

    def __len__(self) -> int:
        return len(self._refs)

    def clear(self) -> None:
        self._refs.clear()


def _keeps_strong_references(cls: type) -> bool:
    """moto's S3 backend closes, on reset, the temporary files of every key and multipart upload it ever made,
    found through their registries; those two keep moto's list (and this template has no bucket)."""
    return cls.__module__ == "moto.s3.models" and cls.__name__ in ("FakeKey", "FakeMultipart")


def _weak_instance_registry() -> None:
    """(b) moto's BaseModel.__new__ appends every instance of every model class to the class's `instances_tracked`
    list (moto.core.base_backend.InstanceTrackerMeta makes one per class and lists the classes in
    moto.core.model_instances.model_data). Only a mock's reset (reset_model_data) empties those lists, so in one
    long-running mock every DynamoDB Item ever built (each put, each update's copy of the old item, each copy
    of (a)), every stream record and shard iterator, every Step Functions object, stays alive forever: memory
    grows with the number of requests (with (a)'s copies, with its square).

    The lists are read only by moto's dashboard (/moto-api/data.json, which lists the live instances), reset
    (reset_model_data, which replaces them with []) and the S3 backend's reset. The patch makes each class's
    registry a WeakInstances (the existing lists converted at apply, and again lazily whenever a reset has put
    a fresh list back), so the dashboard still lists every live instance, reset still empties the registry, and
    an instance that moto itself no longer uses is freed. S3's FakeKey and FakeMultipart keep moto's list."""
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import model_data

    if getattr(BaseModel.__new__, "_moto_patches", False):
        return

    def registry(cls: type) -> Any:
        tracked = cls.__dict__.get("instances_tracked")
        if tracked is None:
            return getattr(cls, "instances_tracked", None)  # BaseModel itself: moto would fail the same way
        if isinstance(tracked, WeakInstances) or _keeps_strong_references(cls):
            return tracked
        weak = WeakInstances(tracked)
        type.__setattr__(cls, "instances_tracked", weak)
        return weak

    def __new__(cls: Any, *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        registry(cls).append(instance)
        return instance

    _mark(__new__)
    BaseModel.__new__ = __new__  # type: ignore[method-assign,assignment]
    for models in list(model_data.values()):
        for model in list(models.values()):
            if isinstance(model, type):
                registry(model)


# ---- (c) stream records ----------------------------------------------------------------------------------------


def _drop_records(shard: Any, count: int) -> None:
    """Forget the shard's `count` oldest records. moto numbers a record starting_sequence_number + its index in
    shard.items and turns an iterator's sequence number back into an index the same way, so moving the start
    up by `count` keeps every sequence number (and every iterator) meaning the same record."""
    if count > 0:
        del shard.items[:count]
        shard.starting_sequence_number = int(shard.starting_sequence_number) + count


def _trim(shard: Any) -> None:
    """Drop what every recent reader has read but the newest STREAM_RECORDS_KEPT_READ, and anything beyond
    STREAM_RECORDS_MAX."""
    readers: dict[str, tuple[int, float]] = shard.__dict__.setdefault("_moto_patches_readers", {})
    now = time.monotonic()
    for token, (_, seen) in list(readers.items()):
        if now - seen > STREAM_READER_IDLE_SECONDS:
            readers.pop(token, None)
    start = int(shard.starting_sequence_number)
    read = min((position for position, _ in readers.values()), default=start) - start
    count = len(shard.items)
    _drop_records(shard, max(min(read, count) - STREAM_RECORDS_KEPT_READ, count - STREAM_RECORDS_MAX))


def _bounded_streams() -> None:
    """(c) moto's StreamShard (moto.dynamodb.models.table) appends a StreamRecord (with the item's old and new image)
    to `shard.items` for every write and never drops one: DynamoDB keeps 24 h of them, moto keeps them all.
    Each get_records also files a new ShardIterator in the streams backend's `shard_iterators` for good, even
    when there was nothing to read (the local stack's two stream pollers ask ten times a second each).

    The patch trims the shard: a reader is an iterator chain (get_shard_iterator starts one, each get_records
    continues it with the next iterator), and after each read the records every reader has read are dropped,
    but for the newest STREAM_RECORDS_KEPT_READ (a reader that starts late, such as the second poller of a stack,
    still finds the first records); a reader that has not read for STREAM_READER_IDLE_SECONDS (a stopped poller)
    no longer counts, and a shard never keeps more than STREAM_RECORDS_MAX records. Sequence numbers keep their
    meaning (see _drop_records); an iterator that points at records already dropped reads on from the oldest
    record kept (DynamoDB would answer TrimmedDataAccessException; moto failed an assertion), and TRIM_HORIZON
    means the oldest record kept. Only the newest SHARD_ITERATORS_MAX iterators are kept: an older one is gone,
    as an expired iterator is on AWS. local/services.py's StreamPoller reads from TRIM_HORIZON with one chain per
    poller and needs no change."""
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

    if getattr(StreamShard.add, "_moto_patches", False):
        return
    moto_add, moto_get = StreamShard.add, StreamShard.get
    moto_iterator, moto_read = DynamoDBStreamsBackend.get_shard_iterator, ShardIterator.get
    tokens = itertools.count()

    def add(self: Any, old: Any, new: Any) -> None:
        moto_add(self, old, new)
        if len(self.items) > STREAM_RECORDS_MAX:
            _drop_records(self, len(self.items) - STREAM_RECORDS_MAX)

    def get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
        return moto_get(self, max(int(start), int(self.starting_sequence_number)), quantity)  # type: ignore[no-any-return]

    def note(iterator: Any, token: str) -> None:
        iterator._moto_patches_reader = token
        try:
            position = int(iterator.sequence_number)
        except (TypeError, ValueError):
            return  # no position moto could read from either
        readers = iterator.stream_shard.__dict__.setdefault("_moto_patches_readers", {})
        readers[token] = (position, time.monotonic())

    def get_shard_iterator(self: Any, *args: Any, **kwargs: Any) -> Any:
        iterator = moto_iterator(self, *args, **kwargs)
        note(iterator, f"reader-{next(tokens)}")
        return iterator

    def read(self: Any, limit: int = 1000) -> dict[str, Any]:
        answer: dict[str, Any] = moto_read(self, limit)
        iterators = self.streams_backend.shard_iterators
        following = iterators.get(answer["NextShardIterator"])
        if following is not None:
            token = getattr(self, "_moto_patches_reader", None) or f"reader-{next(tokens)}"
            note(following, token)
        _trim(self.stream_shard)
        while len(iterators) > SHARD_ITERATORS_MAX:
            iterators.pop(next(iter(iterators)))
        return answer

    _mark(add, get, get_shard_iterator, read)
    StreamShard.add = add  # type: ignore[method-assign]
    StreamShard.get = get  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator  # type: ignore[method-assign]
    ShardIterator.get = read  # type: ignore[method-assign]


# ---- (d) timers ------------------------------------------------------------------------------------------------

_SIMPLE_PATH = re.compile(r"^\$((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$")  # moto's TIMESTAMP_PATTERN
_WAITED_UNTIL = "_moto_patches_waited_until"
_NOTHING = object()


def _resolve(path: Any, data: Any) -> Any:
    """A JSONPath of plain field names ($, $.a, $.a.b) applied to `data`; _NOTHING for anything else."""
    match = _SIMPLE_PATH.match(path) if isinstance(path, str) else None
    if match is None:
        return _NOTHING
    for name in filter(None, match.group(1).split(".")):
        if not isinstance(data, dict) or name not in data:
            return _NOTHING
        data = data[name]
    return data


def _first_wait_deadline(definition: str, execution_input: Any) -> float | None:
    """When the state machine's first state, a Wait, ends for this input (epoch seconds), for the Waits whose
    end this can tell for sure: Seconds, Timestamp, SecondsPath or TimestampPath with a plain JSONPath, no
    JSONata, and a wait shorter than the machine's TimeoutSeconds. None for every other machine."""
    try:
        machine = json.loads(definition)
        state = machine["States"][machine["StartAt"]]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(state, dict) or state.get("Type") != "Wait":
        return None
    if "JSONata" in (machine.get("QueryLanguage"), state.get("QueryLanguage")):
        return None
    data = _resolve(state.get("InputPath", "$"), execution_input)
    if data is _NOTHING:  # an InputPath this cannot follow, or one moto fails the execution on
        return None
    now = time.time()
    if isinstance(state.get("Seconds"), int) and not isinstance(state["Seconds"], bool):
        seconds: Any = state["Seconds"]
    elif "SecondsPath" in state:
        seconds = _resolve(state["SecondsPath"], data)
        if not isinstance(seconds, int):  # moto fails the execution: its own path
            return None
    elif "Timestamp" in state or "TimestampPath" in state:
        stamp = state["Timestamp"] if "Timestamp" in state else _resolve(state["TimestampPath"], data)
        match = _TIMESTAMP.match(stamp) if isinstance(stamp, str) else None
        if match is None:
            return None
        moment = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.UTC)
        seconds = moment.timestamp() + float(match.group(2) or 0) - now
    else:
        return None
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
        return None  # nothing to wait for, or an error moto reports itself: moto's own path
    timeout = machine.get("TimeoutSeconds")
    if isinstance(timeout, int) and seconds >= timeout:
        return None
    return now + seconds


class TimerQueue:
    """One thread for every parked execution: it sleeps until the earliest deadline and starts the execution
    that is due (in a thread of its own, as moto would have, which ends with the execution)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, Any]] = []
        self._parked: dict[int, Any] = {}  # id(worker) -> worker, while it waits
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        with self._condition:
            return len(self._parked)

    def park(self, worker: Any, deadline: float) -> None:
        with self._condition:
            self._parked[id(worker)] = worker
            heapq.heappush(self._heap, (deadline, next(self._order), worker))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="moto-timers", daemon=True)
                self._thread.start()
            self._condition.notify()

    def unpark(self, worker: Any) -> bool:
        """Take the worker off the queue; False when it is not on it (it was never parked, or already started)."""
        with self._condition:
            parked = self._parked.pop(id(worker), None) is not None
            self._compact()
            return parked

    def drop(self, account: str, region: str) -> None:
        """Forget the executions of one account and region (its backend is being reset)."""
        with self._condition:
            for key, worker in list(self._parked.items()):
                details = worker._evaluation_details.aws_execution_details
                if (details.account, details.region) == (account, region):
                    del self._parked[key]
            self._compact()

    def _compact(self) -> None:
        """Drop the heap's entries of executions no longer parked once they outnumber the parked ones."""
        if len(self._heap) > 2 * len(self._parked) + 16:
            self._heap = [entry for entry in self._heap if self._parked.get(id(entry[2])) is entry[2]]
            heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap or self._heap[0][0] > time.time():
                    if self._heap and self._heap[0][2] is not self._parked.get(id(self._heap[0][2])):
                        heapq.heappop(self._heap)  # unparked or dropped meanwhile
                        continue
                    self._condition.wait(None if not self._heap else max(self._heap[0][0] - time.time(), 0.001))
                _, _, worker = heapq.heappop(self._heap)
                if self._parked.get(id(worker)) is not worker:
                    continue
                del self._parked[id(worker)]
            threading.Thread(target=_resume, args=(worker,), name="moto-execution", daemon=True).start()
            _forget_finished_threads()


TIMERS = TimerQueue()


def _forget_finished_threads() -> None:
    """moto's Step Functions keeps every thread it starts in a module list (TMP_THREADS) that nothing clears."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


def _resume(worker: Any) -> None:
    """The rest of moto's ExecutionWorker._execution_logic, from where a parked execution left off. An execution
    stopped between leaving the queue and this thread starting (a stack stopping its timers) is over already:
    moto ended it ABORTED, and there is nothing left to run."""
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    if isinstance(worker.env.program_state(), ProgramStopped):
        return
    program = worker._get_evaluation_entrypoint()
    program.eval(worker.env)
    worker._execution_communication.terminated()


def _parked_timers() -> None:
    """(d) moto's Step Functions (with execute_state_machine) runs each execution in a thread of its own that runs
    the program in a second thread (to enforce TimeoutSeconds); a Wait state sleeps in it (env.program_state_event
    .wait). So every waiting timer holds two threads and their stacks until it fires, hours later: the local
    stack had 200+ threads after 50 lifecycles, one pair per claim or delivery still waiting.

    The patch parks an execution whose first state is a Wait it can compute the end of (_first_wait_deadline:
    the timers in statemachines/ wait until the input's fire_at): ExecutionWorker.start does what moto's thread
    does first (builds the environment and records ExecutionStarted, so the execution is RUNNING and describe,
    list and history work) and puts it on TIMERS, one thread for all of them. At the deadline that thread starts
    the execution the way moto would, in its own thread; its Wait then finds its time up (the patched
    WaitFunction._wait_interval waits only what is left of the parked deadline) and the Task runs, retries and
    all, on moto's code. StopExecution of a parked execution takes it off the queue and ends it ABORTED right
    away, with moto's ExecutionAborted event (moto could not stop an execution whose thread had not started).
    Every other machine runs on moto's own threads, unchanged; resetting the mock forgets its parked executions.
    Also forgets moto's finished threads (TMP_THREADS), which it keeps in a list forever."""
    from moto.stepfunctions.parser.api import (
        ExecutionAbortedEventDetails,
        ExecutionStartedEventDetails,
        HistoryEventExecutionDataDetails,
        HistoryEventType,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    if getattr(ExecutionWorker.start, "_moto_patches", False):
        return
    moto_start, moto_stop = ExecutionWorker.start, ExecutionWorker.stop
    moto_wait, moto_reset = WaitFunction._wait_interval, StepFunctionsParserBackend.reset

    def start(self: Any) -> None:
        details = self._evaluation_details
        deadline = _first_wait_deadline(details.state_machine_details.definition, details.execution_details.inpt)
        if deadline is None:
            moto_start(self)
            return
        # moto's _execution_logic up to program.eval: the environment, and the ExecutionStarted event
        self.env = self._get_evaluation_environment()
        self.env.event_manager.add_event(
            context=self.env.event_history_context,
            event_type=HistoryEventType.ExecutionStarted,
            event_details=EventDetails(  # type: ignore[typeddict-item]
                executionStartedEventDetails=ExecutionStartedEventDetails(
                    input=to_json_str(details.execution_details.inpt),
                    inputDetails=HistoryEventExecutionDataDetails(truncated=False),
                    roleArn=details.aws_execution_details.role_arn,
                )
            ),
            update_source_event_id=False,
        )
        # ... and what Program.eval does first: the program is RUNNING, at its first state (so it can be stopped)
        self.env.next_state_name = json.loads(details.state_machine_details.definition)["StartAt"]
        setattr(self.env, _WAITED_UNTIL, deadline)
        TIMERS.park(self, deadline)
        _forget_finished_threads()

    def stop(self: Any, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
        moto_stop(self, stop_date=stop_date, error=error, cause=cause)
        if not TIMERS.unpark(self):
            return  # running on moto's threads: the Wait wakes up and the program ends ABORTED by itself
        state = self.env.program_state()
        if isinstance(state, ProgramStopped):  # moto's Program._eval_body, for a program stopped before it ran
            self.env.event_history_context.source_event_id = 0
            self.env.event_manager.add_event(
                context=self.env.event_history_context,
                event_type=HistoryEventType.ExecutionAborted,
                event_details=EventDetails(  # type: ignore[typeddict-item]
                    executionAbortedEventDetails=ExecutionAbortedEventDetails(error=state.error, cause=state.cause)
                ),
            )
        self._execution_communication.terminated()

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        until = env.__dict__.pop(_WAITED_UNTIL, None)
        if until is not None:  # the parked wait: only what is left of it (nothing, normally)
            wait_seconds = max(0, math.ceil(until - time.time()))
        moto_wait(self, env, wait_seconds)

    def reset(self: Any) -> None:
        TIMERS.drop(self.account_id, self.region_name)
        moto_reset(self)

    _mark(start, stop, _wait_interval, reset)
    ExecutionWorker.start = start  # type: ignore[method-assign]
    ExecutionWorker.stop = stop  # type: ignore[method-assign]
    WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]
    StepFunctionsParserBackend.reset = reset  # type: ignore[method-assign]
