"""A cursor is exactly what the API handed out, byte for byte: nothing appended, nothing re-spelt."""

from __future__ import annotations

import base64
import json

import pytest

from taskboard.core.errors import InvalidCursor
from taskboard.core.pagination import decode_cursor, encode_cursor

SORT_KEY = "2026-11-22T12:00:00.000000Z#0f8fad5b-d9cb-469f-a165-70867728950e"
GOOD = encode_cursor(SORT_KEY)


def _wrapped(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        GOOD + "\n",  # a trailing newline (once accepted: the pattern's $ matched before it)
        GOOD + "=",  # padding this API never writes
        GOOD[:5] + "!" + GOOD[5:],  # a character base64 decoding would silently skip
        " " + GOOD,
        _wrapped(json.dumps({"v": 1, "k": SORT_KEY + "\n"})),  # a newline inside the sort key
        _wrapped(json.dumps({"k": SORT_KEY, "v": 1})),  # the same content, spelt another way
    ],
)
def test_a_cursor_the_api_did_not_write_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_the_cursor_the_api_wrote_is_accepted() -> None:
    assert decode_cursor(GOOD) == SORT_KEY
