"""The container's Logger, Tracer and Metrics: one of each, shared by every module of a function.

The template sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the defaults keep a module that is
imported before its environment is set (a test collecting it) from emitting metrics without a namespace."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "agent-task-board"))
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AgentTaskBoard"))
