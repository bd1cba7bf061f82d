"""Starting a timer: one Step Functions execution per Timer (taskboard.tasks.timers decides which)."""

from __future__ import annotations

import json
from typing import Any

from taskboard.tasks.timers import Timer, TimerKind


class TimerScheduler:
    """Starts timer executions; `state_machines` maps each kind to its state machine ARN."""

    def __init__(self, state_machines: dict[TimerKind, str], stepfunctions: Any = None) -> None:
        self.state_machines = state_machines
        self._client = stepfunctions

    @property
    def client(self) -> Any:
        if self._client is None:
            from taskboard.core.aws import client

            self._client = client("stepfunctions")
        return self._client

    def start(self, timer: Timer) -> str | None:
        """Start the timer's execution and return its ARN. Idempotent: for the same name and input Step
        Functions returns the execution already running (a redelivered stream record starts nothing new),
        and answers ExecutionAlreadyExists once it has finished, which means the same: None is returned."""
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machines[timer.kind],
                name=timer.execution_name,
                input=json.dumps(timer.payload()),
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            return None
        return str(response["executionArn"])
