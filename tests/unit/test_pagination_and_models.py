"""Cursors, request models and their limits."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from taskboard.core.errors import InvalidCursor, InvalidRequest
from taskboard.core.pagination import decode_cursor, encode_cursor
from taskboard.tasks.models import CreateTaskRequest, DeliverRequest, parse_skills

SORT_KEY = "2026-11-22T12:00:00.000000Z#0b6f7e4e-2f7a-4a53-9d38-5d0c3f1e9a11"


def test_cursor_round_trips_and_is_opaque() -> None:
    cursor = encode_cursor(SORT_KEY)
    assert SORT_KEY not in cursor
    assert decode_cursor(cursor) == SORT_KEY
    assert decode_cursor(None) is None and decode_cursor("") is None


@pytest.mark.parametrize(
    "cursor",
    [
        "nope",
        "!!!",
        base64.urlsafe_b64encode(b'{"v":1,"k":"TASK#x"}').decode(),
        base64.urlsafe_b64encode(b"[]").decode(),
    ],
)
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_tags_are_normalized_and_deduplicated() -> None:
    request = CreateTaskRequest(title="t", tags=[" Data", "data", "OCR"])
    assert request.tags == ["data", "ocr"]


@pytest.mark.parametrize(
    "fields",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": "t", "description": "x" * 5001},
        {"title": "t", "tags": ["t"] * 0 + [f"t{i}" for i in range(11)]},
        {"title": "t", "tags": ["no spaces"]},
        {"title": "t", "tags": ["*"]},
        {"title": "t", "timeout_minutes": 0},
        {"title": "t", "timeout_minutes": 1441},
        {"title": "t", "timeout_seconds": 29},
        {"title": "t", "timeout_seconds": 86401},
        {"title": "t", "timeout_seconds": 60, "timeout_minutes": 1},
        {"title": "t", "max_attempts": 0},
        {"title": "t", "max_attempts": 11},
        {"title": "t", "auto_complete_seconds": 29},
        {"title": "t", "auto_complete_seconds": 2_592_001},
        {"title": "t", "input": "x" * 51_200},
        {"title": "t", "max_attempts": "3"},
        {"title": "t", "requires_human": "yes"},
        {"title": "t", "budget_cents": 0},
    ],
)
def test_create_limits(fields: dict) -> None:
    with pytest.raises(ValidationError):
        CreateTaskRequest.model_validate(fields)


def test_timeout_defaults_to_an_hour_and_accepts_either_unit() -> None:
    assert CreateTaskRequest(title="t").timeout == 3600
    assert CreateTaskRequest(title="t", timeout_minutes=2).timeout == 120
    assert CreateTaskRequest(title="t", timeout_seconds=45).timeout == 45


def test_result_limit() -> None:
    with pytest.raises(ValidationError):
        DeliverRequest(result="x" * 102_400)
    with pytest.raises(ValidationError):
        DeliverRequest(result_url="ftp://example.com/x")


def test_skills_parse_from_any_number_of_comma_lists() -> None:
    assert parse_skills("Data, scraping", None) == ("data", "scraping")
    assert parse_skills(None, "ocr") == ("ocr",)
    assert parse_skills(None, None) == ()
    with pytest.raises(InvalidRequest):
        parse_skills("bad skill", None)
    with pytest.raises(InvalidRequest):
        parse_skills(",".join(f"s{i}" for i in range(11)), None)
