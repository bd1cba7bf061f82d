"""Timers: what a committed state change implies should happen later, and how deadlines share executions.

A claim implies an expiry timer at `expires_at`; a delivery implies an auto-complete timer at
`auto_complete_at`. A task has at most one live deadline, and its STATE item carries it as the keys of the
sparse `Deadlines` index: `due_pk = DUE#<end of its bucket>`, `due_sk = <deadline>#<kind>#<attempt>`. Buckets
are `BUCKET_SECONDS` wide and end on whole seconds; every deadline of a bucket is fired by ONE Step Functions
execution (named after the bucket), which waits until the bucket's end and then fires what the index lists in
it. A superseded deadline leaves the index with the change that supersedes it (the STATE item is replaced in
the same transaction), so no execution is started for it and none fires it. The cost of a timer is therefore
shared by every deadline of its bucket: see README "Timers" for the measurement behind this choice.

Executions are started from the table's stream (functions/on_task_change), so a deadline has an execution if
and only if the change that set it committed. A deadline whose bucket ends too soon for its index entry to be
sure to be visible (within `margin` seconds of now, or already fired) also gets a late execution for its
bucket, `due-<bucket>-at-<later>`, which reads the same bucket at a later whole bucket end. Firing is exactly
once in effect: each entry is applied by taskboard.tasks.service.TaskBoard.fire_timer, which checks status,
attempt and deadline inside its conditional write (and raises TimerFiredEarly before the deadline)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from taskboard.core.clock import from_iso
from taskboard.core.errors import TimerFiredEarly
from taskboard.tasks.lifecycle import Status, TaskState

__all__ = [
    "BUCKET_SECONDS",
    "Bucket",
    "Timer",
    "TimerFiredEarly",
    "TimerKind",
    "due_from_keys",
    "timer_of",
    "timers_implied",
]

# How wide a bucket of deadlines is: a deadline fires at most this long after it (plus the firing's own time).
BUCKET_SECONDS = 5
DUE_PREFIX = "DUE#"
_WHOLE = "%Y-%m-%dT%H:%M:%SZ"


class TimerKind(StrEnum):
    CLAIM_EXPIRY = "expiry"
    AUTO_COMPLETE = "autocomplete"


@dataclass(frozen=True)
class Bucket:
    """The deadlines in (end - BUCKET_SECONDS, end], fired together once `end` has passed."""

    end: int  # epoch seconds, a multiple of BUCKET_SECONDS

    @classmethod
    def of(cls, moment: datetime) -> Bucket:
        """The bucket a moment falls in (a moment exactly on a bucket's end belongs to that bucket)."""
        return cls(math.ceil(moment.timestamp() / BUCKET_SECONDS) * BUCKET_SECONDS)

    @classmethod
    def named(cls, text: str) -> Bucket:
        """The bucket of `due_pk` or of an execution's `bucket` input (its end, whole seconds, ISO 8601)."""
        moment = datetime.strptime(text.removeprefix(DUE_PREFIX), _WHOLE).replace(tzinfo=UTC)
        return cls.of(moment)

    @property
    def iso(self) -> str:
        return datetime.fromtimestamp(self.end, UTC).strftime(_WHOLE)

    @property
    def partition(self) -> str:
        return DUE_PREFIX + self.iso

    def execution(self, fire_at: Bucket | None = None) -> tuple[str, dict[str, str]]:
        """The execution that fires this bucket at `fire_at`'s end (default: its own), as (name, input). Names
        are unique per bucket and firing time, so a retried start is the same execution (Step Functions returns
        the running one for the same name and input). At most 80 characters, no ':' (Step Functions' rules)."""
        at = fire_at or self
        compact = self.iso.replace("-", "").replace(":", "")
        name = f"due-{compact}" if at == self else f"due-{compact}-at-{at.iso.replace('-', '').replace(':', '')}"
        return name, {"bucket": self.iso, "fire_at": at.iso}


@dataclass(frozen=True)
class Timer:
    kind: TimerKind
    task_id: str
    attempt: int
    deadline: str  # the task's own time (expires_at / auto_complete_at), microseconds

    @property
    def bucket(self) -> Bucket:
        return Bucket.of(from_iso(self.deadline))

    def index_keys(self) -> dict[str, str]:
        """The STATE item's keys in the Deadlines index."""
        return {"due_pk": self.bucket.partition, "due_sk": f"{self.deadline}#{self.kind}#{self.attempt}"}


def due_from_keys(item: dict[str, Any]) -> Timer:
    """The timer an index entry (KEYS_ONLY: pk, sk, due_pk, due_sk) stands for."""
    deadline, kind, attempt = item["due_sk"]["S"].rsplit("#", 2)
    return Timer(TimerKind(kind), item["pk"]["S"].removeprefix("TASK#"), int(attempt), deadline)


def timer_of(state: TaskState) -> Timer | None:
    """The one deadline a state waits for, if any: a claim's expiry, or a delivery's auto-complete."""
    if state.status is Status.CLAIMED and state.expires_at:
        return Timer(TimerKind.CLAIM_EXPIRY, state.id, state.attempts, state.expires_at)
    if state.status is Status.DELIVERED and state.auto_complete_at:
        return Timer(TimerKind.AUTO_COMPLETE, state.id, state.attempts, state.auto_complete_at)
    return None


def timers_implied(before: TaskState | None, after: TaskState) -> list[Timer]:
    """The deadlines a change from `before` (None: a new task) to `after` sets: its timer when it is new
    (a claim, a heartbeat's later expiry, a delivery), nothing when the change left it as it was. Pure."""
    timer = timer_of(after)
    if timer is None or (before is not None and timer_of(before) == timer):
        return []
    return [timer]
