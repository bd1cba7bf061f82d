"""Opaque cursors: the sort key of the last item a page returned, base64url-wrapped so clients don't parse it."""

from __future__ import annotations

import base64
import binascii
import json
import re

from taskboard.core.errors import InvalidCursor

_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"
_SORT_KEY = re.compile(rf"^{_TIME}#[0-9a-f-]{{36}}$")
# an event's place in a feed (<time>#<task>#<sequence>) and a delivery attempt's (<time>#<event id>#<attempt>)
FEED_KEY = re.compile(rf"^{_TIME}#[0-9a-f-]{{36}}#\d{{10}}$")
DELIVERY_KEY = re.compile(rf"^{_TIME}#evt_[0-9a-f]{{32}}#\d{{2}}$")


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"v": 1, "k": sort_key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, pattern: re.Pattern[str] = _SORT_KEY) -> str | None:
    """The sort key a cursor continues after. Raises InvalidCursor for anything this API did not hand out."""
    if cursor is None or cursor == "":
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        sort_key = payload["k"] if isinstance(payload, dict) and payload.get("v") == 1 else None
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError, KeyError):
        sort_key = None
    # Exactly what encode_cursor wrote: base64 decoding skips stray characters and `$` admits a final newline,
    # so a lenient check would take cursors this API never handed out.
    if not isinstance(sort_key, str) or not pattern.fullmatch(sort_key) or encode_cursor(sort_key) != cursor:
        raise InvalidCursor("cursor is not one this API returned; start again without it.")
    return sort_key


def _wrapped(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def encode_scan(positions: dict[str, str]) -> str:
    """A search's place in each partition it reads (GET /tasks/next's `cursor`): partition -> sort key."""
    return _wrapped({"v": 1, "p": positions})


def decode_scan(cursor: str | None, partitions: tuple[str, ...]) -> dict[str, str]:
    """The positions encode_scan wrapped, each in one of `partitions` (the search's skills: a cursor from a
    search of other skills is refused, not half-used). Raises InvalidCursor for anything else."""
    if cursor is None or cursor == "":
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        positions = payload["p"] if isinstance(payload, dict) and payload.get("v") == 1 else None
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError, KeyError):
        positions = None
    if (
        not isinstance(positions, dict)
        or not positions
        or not all(isinstance(key, str) and isinstance(value, str) for key, value in positions.items())
        or not set(positions) <= set(partitions)
        or not all(_SORT_KEY.fullmatch(value) for value in positions.values())
        or encode_scan(positions) != cursor
    ):
        raise InvalidCursor("cursor is not one this search returned; search again without it.")
    return positions
