"""Write units of the table's global secondary indexes, which DynamoDB bills beside the table's own.

A write to the table writes each GSI whose entry for the item changes: a new entry costs its size in 1 KB
units, a removed one 1 unit per KB of the old entry, a changed entry with the same index keys its new size, and
an entry whose keys change both (a delete and a put); an index the write leaves as it was costs nothing. An
entry is the table's keys, the index's keys and the projected attributes. moto does not bill, so the bench sees
every write's old and new image (as the table's stream does) and prices them by these rules. Index writes are
priced as standard writes inside transactions too (DynamoDB doubles the table item's units there)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from scripts.bench.capacity import item_size, units


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projected: tuple[str, ...] | None  # None: ALL

    def entry(self, item: dict[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The item's entry in this index, or None when the item lacks the index's keys (a sparse index)."""
        if not item or not all(key in item for key in self.keys):
            return None
        if self.projected is None:
            return dict(item)
        wanted = (*table_keys, *self.keys, *self.projected)
        return {name: item[name] for name in wanted if name in item}


def indexes_of(template: dict[str, Any], table: str = "TasksTable") -> tuple[tuple[str, ...], list[Index]]:
    """The table's key attributes and its GSIs, from template.yaml."""
    props = template["Resources"][table]["Properties"]
    table_keys = tuple(key["AttributeName"] for key in props["KeySchema"])
    found = []
    for index in props.get("GlobalSecondaryIndexes", []):
        projection = index["Projection"]
        kind = projection["ProjectionType"]
        projected = None if kind == "ALL" else tuple(projection.get("NonKeyAttributes", ()))
        found.append(Index(index["IndexName"], tuple(k["AttributeName"] for k in index["KeySchema"]), projected))
    return table_keys, found


def index_units(
    old: dict[str, Any] | None, new: dict[str, Any] | None, table_keys: tuple[str, ...], indexes: list[Index]
) -> Counter[str]:
    """Write units each index costs for one item going from `old` to `new` (None: absent)."""
    spent: Counter[str] = Counter()
    for index in indexes:
        before, after = index.entry(old, table_keys), index.entry(new, table_keys)
        if before == after:
            continue
        same_keys = before is not None and after is not None and all(before[k] == after[k] for k in index.keys)
        if after is not None:
            spent[index.name] += units(item_size(after), 1024)
        if before is not None and not same_keys:
            spent[index.name] += units(item_size(before), 1024)
    return spent


class IndexWrites:
    """Records every write's old and new image on the mocked table (moto's stream shard is handed both) while
    installed; `since(mark)` prices the writes after a `mark()` per index."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.table_keys, self.indexes = indexes_of(template)
        self.images: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
        self._lock = threading.Lock()
        from moto.dynamodb.models.table import StreamShard

        shard_add = StreamShard.add
        recorder = self

        def add(shard: Any, old: Any, new: Any) -> None:
            shard_add(shard, old, new)
            with recorder._lock:
                recorder.images.append(
                    (
                        old.to_json()["Attributes"] if old is not None else None,
                        new.to_json()["Attributes"] if new is not None else None,
                    )
                )

        self._restore = (StreamShard, shard_add)
        StreamShard.add = add  # type: ignore[method-assign,assignment]

    def close(self) -> None:
        shard, add = self._restore
        shard.add = add  # type: ignore[method-assign]

    def mark(self) -> int:
        with self._lock:
            return len(self.images)

    def since(self, mark: int) -> Counter[str]:
        with self._lock:
            images = self.images[mark:]
        spent: Counter[str] = Counter()
        for old, new in images:
            spent += index_units(old, new, self.table_keys, self.indexes)
        return spent
