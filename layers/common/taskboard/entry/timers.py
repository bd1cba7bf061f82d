"""The Lambda entry of a timer's firing function, invoked by its state machine after the Wait state."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from taskboard.core import coldstart
from taskboard.runtime import board, logger, metrics, tracer
from taskboard.tasks.timers import TimerKind


class TimerInput(BaseModel):
    """The execution input the stream function started the timer with (timers.Timer.payload)."""

    model_config = ConfigDict(extra="ignore")
    task_id: str = Field(min_length=1)
    attempt: int = Field(ge=1)
    deadline: str
    fire_at: str | None = None


def timer_handler(kind: TimerKind) -> Any:
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
        timer = TimerInput.model_validate(event)
        logger.append_keys(task_id=timer.task_id, attempt=timer.attempt, timer=str(kind))
        outcome = board().fire_timer(kind, timer.task_id, timer.attempt, timer.deadline)
        logger.info("timer fired", outcome=outcome)
        if outcome != "noop":
            metrics.add_metric(name=f"Timer{kind.title()}Applied", unit=MetricUnit.Count, value=1)
        return {"task_id": timer.task_id, "outcome": outcome}

    coldstart.done()  # the function's module is built (it ends with this call): collection back on
    return handler
