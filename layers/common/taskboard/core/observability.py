"""The container's Logger, Tracer and Metrics: one of each, shared by every module of a function.

The template sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the defaults keep a module that is
imported before its environment is set (a test collecting it) from emitting metrics without a namespace."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])


class LazyTracer:
    """Powertools' Tracer, made when the first invocation needs it rather than at import.

    Making a Tracer imports the X-Ray SDK (with wrapt and asyncio) and patches every library it knows: ~40 ms
    of a cold start's import. Made lazily, a function whose tracing is off (the local stack, tests) never pays
    it, and the import that Lambda's init runs stays near the bare handler's; an invocation's botocore calls are
    still traced, because the patch is on the client class and lands before the handler runs."""

    def __init__(self) -> None:
        self._tracer: Tracer | None = None
        self._lock = threading.Lock()

    @property
    def real(self) -> Tracer:
        if self._tracer is None:
            with self._lock:
                if self._tracer is None:
                    self._tracer = Tracer()
        return self._tracer

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        """As Tracer.capture_lambda_handler: a segment per invocation, with cold start and errors annotated."""
        traced: list[Callable[..., Any]] = []

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            if not traced:
                traced.append(self.real.capture_lambda_handler(handler))
            return traced[0](event, context)

        return invoke  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "agent-task-board"))
tracer = LazyTracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AgentTaskBoard"))
