"""The Lambda entry of the timers' firing function, invoked by the DueTimers state machine once a bucket of
deadlines has ended (taskboard.tasks.timers): it fires every deadline the Deadlines index lists in the bucket."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from taskboard.core import coldstart
from taskboard.core.clock import from_iso
from taskboard.core.errors import DeadlinesLeft, TimerFiredEarly, TimersFailed
from taskboard.runtime import board, logger, metrics, tracer
from taskboard.tasks.timers import Bucket

# Stop starting new firings with less than this left of the invocation: the state machine runs it again.
RESERVE_SECONDS = 5.0
# A deadline a moment ahead of this function's clock (clocks differ by milliseconds) is waited for, not retried.
EARLY_WAIT_SECONDS = 1.0


class BucketInput(BaseModel):
    """The execution input the stream function started the bucket's execution with (Bucket.execution)."""

    model_config = ConfigDict(extra="ignore")
    bucket: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    fire_at: str | None = None


def fire_bucket(
    bucket: Bucket, time_left: Callable[[], float], sleep: Callable[[float], None] = time.sleep
) -> Counter[str]:
    """Fire every deadline of `bucket` (each one: TaskBoard.fire_timer, exactly once in effect) and count the
    outcomes. Raises DeadlinesLeft when time runs short, TimerFiredEarly when one is not due yet, TimersFailed
    when some failed: after firing all the others, so one bad deadline never holds its bucket up."""
    tasks = board()
    outcomes: Counter[str] = Counter()
    failed: list[str] = []
    early = 0
    after = None
    while True:
        page = tasks.tasks.due(bucket, after=after)
        for timer in page.timers:
            if time_left() < RESERVE_SECONDS:
                raise DeadlinesLeft(f"bucket {bucket.iso}: out of time after {sum(outcomes.values())} deadlines")
            ahead = (from_iso(timer.deadline) - tasks.clock()).total_seconds()
            if 0 < ahead <= EARLY_WAIT_SECONDS:
                sleep(ahead)
            try:
                outcomes[tasks.fire_timer(timer.kind, timer.task_id, timer.attempt, timer.deadline)] += 1
            except TimerFiredEarly:
                early += 1
            except Exception:  # one deadline's failure must not keep the rest of its bucket waiting
                logger.exception("timer failed", task_id=timer.task_id, timer=str(timer.kind))
                failed.append(timer.task_id)
        if page.last_key is None:
            break
        after = page.last_key
    if failed:
        raise TimersFailed(f"bucket {bucket.iso}: {len(failed)} deadlines failed ({', '.join(failed[:5])})")
    if early:
        raise TimerFiredEarly(f"bucket {bucket.iso}: {early} deadlines are not due yet")
    return outcomes


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = BucketInput.model_validate(event)
    bucket = Bucket.named(request.bucket)
    logger.append_keys(bucket=bucket.iso, fire_at=request.fire_at)
    outcomes = fire_bucket(bucket, lambda: context.get_remaining_time_in_millis() / 1000)
    applied = sum(count for outcome, count in outcomes.items() if outcome != "noop")
    logger.info("bucket fired", outcomes=dict(outcomes))
    if applied:
        metrics.add_metric(name="TimersApplied", unit=MetricUnit.Count, value=applied)
    return {"bucket": bucket.iso, "outcomes": dict(sorted(outcomes.items()))}


coldstart.done()  # the module is built (the function's app.py only re-exports it): collection back on
