"""Starting timers: one Step Functions execution per bucket of deadlines (taskboard.tasks.timers says which)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from taskboard.tasks.timers import BUCKET_SECONDS, Bucket, Timer


class TimerScheduler:
    """Starts the executions of the DueTimers state machine that fire a deadline's bucket.

    `margin` is how long an index entry may take to become visible in the Deadlines index (a GSI is eventually
    consistent; it is usually well under a second): a bucket that ends sooner than that from now, or has
    already fired, also gets a late execution that reads it again at the first bucket end past the margin."""

    def __init__(self, state_machine_arn: str, margin_seconds: float, stepfunctions: Any = None) -> None:
        self.state_machine_arn = state_machine_arn
        self.margin = timedelta(seconds=margin_seconds)
        self._client = stepfunctions

    @property
    def client(self) -> Any:
        if self._client is None:
            from taskboard.core.aws import client

            self._client = client("stepfunctions")
        return self._client

    def executions_for(self, timer: Timer, now: datetime) -> list[tuple[str, dict[str, str]]]:
        """The executions (name, input) that fire `timer`'s bucket: its own, and a late one when the bucket ends
        within the margin from `now` (or ended already)."""
        bucket = timer.bucket
        wanted = [bucket.execution()]
        if bucket.end <= (now + self.margin).timestamp():
            later = Bucket(max(Bucket.of(now + self.margin).end, bucket.end + BUCKET_SECONDS))
            wanted.append(bucket.execution(fire_at=later))
        return wanted

    def start(self, timer: Timer, now: datetime) -> list[str]:
        """Start the executions that fire `timer`; returns the names started or already running. Idempotent:
        for the same name and input Step Functions returns the running execution (a redelivered stream record
        starts nothing new); ExecutionAlreadyExists means that execution has finished: once the bucket is past,
        the late execution asked for too covers it; before (an execution stopped by hand), a late one is
        started instead."""
        running: list[str] = []
        wanted = self.executions_for(timer, now)
        while wanted:
            name, payload = wanted.pop(0)
            try:
                self.client.start_execution(
                    stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload, sort_keys=True)
                )
            except self.client.exceptions.ExecutionAlreadyExists:
                if len(wanted) == 0 and len(running) == 0 and payload["fire_at"] == timer.bucket.iso:
                    # the bucket's own execution is over before its end (stopped by hand): read it again later
                    later = Bucket(max(Bucket.of(now + self.margin).end, timer.bucket.end + BUCKET_SECONDS))
                    wanted.append(timer.bucket.execution(fire_at=later))
                continue
            running.append(name)
        return running
