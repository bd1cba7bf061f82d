"""Everything the bench takes from the shared layer (taskboard.*), in one place: when a module of the layer moves,
this is the only file to re-point. The imports are made on first use, once a section's stack has set the
environment (and so that `--only cold`, which runs no handler in this process, imports none of them)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from local.stack import LAYER

if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))


def shared_client(service: str) -> Any:
    """The client every handler of this process uses for `service` (one per container, as deployed)."""
    from taskboard.core.aws import client

    return client(service)


def board() -> Any:
    """The container's TaskBoard (its clock, sleep and poll interval are what the bench adjusts)."""
    from taskboard.runtime import board

    return board()


def utc_now() -> datetime:
    from taskboard.core.clock import utc_now

    return utc_now()


def to_iso(moment: datetime) -> str:
    from taskboard.core.clock import to_iso

    return to_iso(moment)


def new_task(**fields: Any) -> Any:
    """An open task's state (taskboard.lifecycle.TaskState)."""
    from taskboard.tasks.lifecycle import TaskState

    return TaskState(**fields)


def task_body(**fields: Any) -> Any:
    from taskboard.tasks.items import TaskBody

    return TaskBody(**fields)


def task_items(state: Any, body: Any) -> list[dict[str, Any]]:
    """The items TaskRepository.create/save write for a task: its STATE, its BODY, its listing entries."""
    from taskboard.tasks.items import _body_item, listing_items, state_item

    return [state_item(state), _body_item(state.id, body), *listing_items(state)]


def claim(state: Any, worker: str, now: datetime) -> Any:
    from taskboard.tasks import lifecycle

    return lifecycle.claim(state, worker, now)


def deliver(state: Any, worker: str, now: datetime) -> Any:
    from taskboard.tasks import lifecycle

    return lifecycle.deliver(state, worker, now)


def complete(state: Any, poster: str, now: datetime) -> Any:
    from taskboard.tasks import lifecycle

    return lifecycle.complete(state, poster, now)
