"""Reading stored items into what a response shows, so that one item that cannot be read never fails a whole
listing: defense in depth behind the request models (each domain's `models`), for data written before their
rules or by a bug.

An item is readable when its model (or value) can be built and serialized the way a response will serialize it
(pydantic's JSON serializer: depth, strings, types). A listing skips an unreadable item: `read` logs it with its
key, counts it in the metric `UnreadableItems` and returns None. A change of one item (a claim, a delivery) that
would answer with it calls `require` before it writes anything: Unreadable, a 500 with nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pydantic_core
from pydantic import BaseModel

T = TypeVar("T")
V = TypeVar("V")

METRIC = "UnreadableItems"


class Unreadable(Exception):
    """A stored item that cannot be turned into what the response shows (logged and counted already)."""

    def __init__(self, key: str, kind: str) -> None:
        super().__init__(f"stored {kind} {key} cannot be read")
        self.key = key
        self.kind = kind


def renders(value: Any) -> None:
    """Raise if `value` cannot be serialized as a response would: a model by its own serializer, a dict or list by
    pydantic's; anything else is readable once built."""
    if isinstance(value, BaseModel):
        value.model_dump_json()
    elif isinstance(value, dict | list):
        pydantic_core.to_json(value)


def _skipped(key: str, kind: str, error: BaseException) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from taskboard.core.observability import logger, metrics

    logger.warning(
        "skipped a stored item that cannot be read",
        extra={"item_key": key, "item_kind": kind, "error": f"{type(error).__name__}: {str(error)[:300]}"},
    )
    metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=1)


def read(build: Callable[..., T], *args: Any, key: str, kind: str) -> T | None:
    """`build(*args)` if what it builds can be read and rendered; else None (logged with `key`, counted)."""
    try:
        built = build(*args)
        renders(built)
    except Exception as error:
        _skipped(key, kind, error)
        return None
    return built


def require(build: Callable[..., T], *args: Any, key: str, kind: str) -> T:
    """`build(*args)`, checked like `read`; raises Unreadable (logged, counted) instead of returning None."""
    built = read(build, *args, key=key, kind=kind)
    if built is None:
        raise Unreadable(key, kind)
    return built


def read_all(items: Iterable[V], build: Callable[[V], T], key: Callable[[V], str], kind: str) -> list[T]:
    """`build(item)` of every item that can be read, in order; the others skipped (each logged and counted)."""
    found: list[T] = []
    for item in items:
        built = read(build, item, key=_key(key, item), kind=kind)
        if built is not None:
            found.append(built)
    return found


def _key(key: Callable[[Any], str], item: Any) -> str:
    try:
        return key(item)
    except Exception:
        return "<no key>"


def same(item: T) -> T:
    """The identity, as `build` for items that are shown as they are stored (event envelopes)."""
    return item
