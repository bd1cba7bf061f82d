"""Counting the DynamoDB requests a measured call makes, on the client the handlers share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from scripts.bench import layer
from scripts.bench.capacity import Call, analyze


class Recorder:
    """Counts the requests of the DynamoDB client the handlers share (taskboard.core.aws.client), while measuring."""

    def __init__(self) -> None:
        events = layer.shared_client("dynamodb").meta.events
        events.register("before-parameter-build.dynamodb", self._remember, unique_id="bench-remember")
        events.register("after-call.dynamodb", self._record, unique_id="bench-record")
        self._calls: list[Call] | None = None
        self._thread = 0

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    def _record(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # only the measured request's own calls: the stream and queue pollers work in other threads meanwhile
        if self._calls is not None and threading.get_ident() == self._thread:
            self._calls.append(analyze(model.name, context.get("bench_params", {}), parsed))

    @contextmanager
    def measure(self) -> Iterator[list[Call]]:
        calls: list[Call] = []
        self._thread = threading.get_ident()
        self._calls = calls
        try:
            yield calls
        finally:
            self._calls = None
