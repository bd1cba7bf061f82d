"""Items read and written per DynamoDB request, and the capacity DynamoDB would bill for them (estimated).

moto does not measure capacity: it returns ConsumedCapacity only when asked, and then a constant per request.
Capacity here is therefore an estimate from the items' sizes by DynamoDB's rounding rules (reads: 4 KB units,
halved when eventually consistent, Query summed before rounding; writes: 1 KB units, doubled in transactions)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return 1 + (len(digits) + 1) // 2


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB bills for one attribute value (its documented size rules, close enough for an estimate)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(item) for item in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(item) for name, item in data.items())
    if kind == "SS":
        return sum(len(item.encode()) for item in data)
    if kind == "NS":
        return sum(_number_size(item) for item in data)
    return sum(len(item) for item in data)  # BS


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


@dataclass
class Call:
    operation: str
    items_read: int = 0
    items_written: int = 0
    rcu: float = 0.0
    wcu: float = 0.0


def analyze(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> Call:
    """Items read/written by one request, and the capacity DynamoDB would bill for it (estimated)."""
    call = Call(operation)
    consistent = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        item = parsed.get("Item")
        call.items_read = 1 if item else 0
        call.rcu = units(item_size(item or {}), 4096) * consistent
    elif operation in ("Query", "Scan"):
        items = parsed.get("Items", [])
        call.items_read = parsed.get("ScannedCount", parsed.get("Count", len(items)))
        call.rcu = units(sum(item_size(item) for item in items), 4096) * consistent
    elif operation == "BatchGetItem":
        for name, request in params.get("RequestItems", {}).items():
            found = parsed.get("Responses", {}).get(name, [])
            factor = 1.0 if request.get("ConsistentRead") else 0.5
            call.items_read += len(found)
            missing = max(0, len(request.get("Keys", [])) - len(found))
            call.rcu += (sum(units(item_size(item), 4096) for item in found) + missing) * factor
    elif operation == "TransactGetItems":
        found = [response.get("Item") or {} for response in parsed.get("Responses", [])]
        call.items_read = sum(1 for item in found if item)
        call.rcu = 2 * sum(units(item_size(item), 4096) for item in found)
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        call.items_written = 1
        call.wcu = units(item_size(params.get("Item", {})), 1024)
    elif operation == "BatchWriteItem":
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                call.items_written += 1
                call.wcu += units(item_size(request.get("PutRequest", {}).get("Item", {})), 1024)
    elif operation == "TransactWriteItems":
        for action in params.get("TransactItems", []):
            ((kind, body),) = action.items()
            if kind != "ConditionCheck":
                call.items_written += 1
            call.wcu += 2 * units(item_size(body.get("Item", {})), 1024)
    return call


@dataclass
class Cost:
    requests: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    items_written: int = 0
    rcu: float = 0.0
    wcu: float = 0.0

    @classmethod
    def of(cls, calls: Iterable[Call]) -> Cost:
        cost = cls()
        for call in calls:
            cost.requests[call.operation] += 1
            cost.items_read += call.items_read
            cost.items_written += call.items_written
            cost.rcu += call.rcu
            cost.wcu += call.wcu
        return cost

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def describe(self) -> str:
        return ", ".join(f"{operation} {count}" for operation, count in self.requests.items()) or "-"
