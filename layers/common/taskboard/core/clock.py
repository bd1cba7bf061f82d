"""Time as the board sees it: UTC, one fixed-width ISO 8601 format that sorts as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(moment: datetime) -> str:
    """Fixed width (microseconds, 'Z'), so string order is time order: index sort keys rely on it."""
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_iso(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def later(moment: datetime, seconds: int) -> datetime:
    return moment + timedelta(seconds=seconds)
