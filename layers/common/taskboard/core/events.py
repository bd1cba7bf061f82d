"""The event types of the one event stream (webhooks, the feed): each domain adds its own here."""

from __future__ import annotations

from typing import Literal

EventType = Literal[
    "task.created",
    "task.claimed",
    "task.released",
    "task.delivered",
    "task.completed",
    "task.rejected",
    "task.expired",
    "task.failed",
    "task.cancelled",
    "task.reviewed",
    "order.created",
    "order.started",
    "order.declined",
    "order.delivered",
    "order.revision_requested",
    "order.completed",
    "order.cancelled",
    "order.disputed",
    "order.resolved",
    "order.reviewed",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
