"""Timers: what a committed state change implies should happen later, and starting it on Step Functions.

A claim implies an expiry timer at `expires_at`; a delivery implies an auto-complete timer at
`auto_complete_at`. Timers are started from the table's stream (functions/on_task_change), so a timer exists
if and only if the state change that implies it committed, even when the request's Lambda died right after.

Superseded timers are not stopped: they fire and find nothing to do (the firing handler checks status,
attempt and deadline inside its conditional write). Stopping them would cost a StopExecution per heartbeat
and could still race the firing; a waiting Standard execution costs nothing until it fires."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from taskboard.core.clock import from_iso
from taskboard.core.errors import TimerFiredEarly
from taskboard.tasks.lifecycle import Status, TaskState

__all__ = ["Timer", "TimerFiredEarly", "TimerKind", "timers_implied"]


class TimerKind(StrEnum):
    CLAIM_EXPIRY = "expiry"
    AUTO_COMPLETE = "autocomplete"


@dataclass(frozen=True)
class Timer:
    kind: TimerKind
    task_id: str
    attempt: int
    deadline: str  # the task's own time (expires_at / auto_complete_at), microseconds

    @property
    def fire_at(self) -> str:
        """The deadline rounded up to the next whole second: a Wait state's TimestampPath resolution."""
        moment = from_iso(self.deadline)
        whole = datetime.fromtimestamp(math.ceil(moment.timestamp()), UTC)
        return whole.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def execution_name(self) -> str:
        """Unique per task, kind, attempt and deadline, so a retried start is the same execution (idempotent)
        and a heartbeat's new deadline is a new one. At most 80 characters, as Step Functions requires."""
        digits = "".join(ch for ch in self.deadline if ch.isdigit())
        return f"{self.task_id}-{self.kind}-{self.attempt}-{digits}"

    def payload(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "attempt": self.attempt, "deadline": self.deadline, "fire_at": self.fire_at}


def timers_implied(before: TaskState | None, after: TaskState) -> list[Timer]:
    """The timers a change from `before` (None: a new task) to `after` implies. Pure; no I/O."""
    changed_claim = before is None or (before.attempts, before.expires_at) != (after.attempts, after.expires_at)
    if after.status is Status.CLAIMED and after.expires_at and changed_claim:
        return [Timer(TimerKind.CLAIM_EXPIRY, after.id, after.attempts, after.expires_at)]
    newly_delivered = before is None or before.status is not Status.DELIVERED
    if after.status is Status.DELIVERED and after.auto_complete_at and newly_delivered:
        return [Timer(TimerKind.AUTO_COMPLETE, after.id, after.attempts, after.auto_complete_at)]
    return []
