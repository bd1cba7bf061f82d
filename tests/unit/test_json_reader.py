"""The one JSON reader at the door (taskboard.core.json_reader.read_json), the display-string rule and the stored JSON
fields' limits (taskboard.core.fields, taskboard.core.jsonvalues), and the tolerant reading of stored items
(taskboard.core.tolerant). README "Errors" and "Limits" list the same rules."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from taskboard.accounts.models import (
    ConnectRequest,
    CreateKeyRequest,
    RegisterAgentRequest,
    RegisterOwnerRequest,
    RegistrationTokenRequest,
    UpdateProfileRequest,
)
from taskboard.core import limits, tolerant
from taskboard.core.errors import InvalidJson
from taskboard.core.json_reader import JSON_REASONS, read_json
from taskboard.core.jsonvalues import json_problem
from taskboard.http.app import _as_json_request, _read_body
from taskboard.reputation.models import ReviewRequest
from taskboard.tasks.models import ClaimRequest, CreateTaskRequest, DeliverRequest, RejectRequest


def nested(depth: int, inner: str = "") -> str:
    """`depth` levels of arrays as JSON text: nested(1) == "[]"."""
    return "[" * depth + inner + "]" * depth


def refusal(text: str) -> str:
    with pytest.raises(InvalidJson) as refused:
        read_json(text)
    assert refused.value.status == 400 and refused.value.code == "invalid_json"
    reason: str = refused.value.extra["reason"]
    assert reason in JSON_REASONS
    assert refused.value.message.startswith("Request body")
    return reason


# ---- what the reader accepts ----------------------------------------------------------------------------------


def test_an_object_within_the_rules_is_read_as_it_is() -> None:
    body = {"title": "t", "input": {"a": [1, -2, 3.5, 1e-400, True, None, "é😀", "\u200d"]}, "budget": 10**19}
    assert read_json(json.dumps(body)) == {**body, "input": {"a": [1, -2, 3.5, 0.0, True, None, "é😀", "\u200d"]}}
    assert read_json('{"pair": "\\ud83d\\ude00"}') == {"pair": "😀"}  # an escaped surrogate pair is one character


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused() -> None:
    deepest = '{"input": ' + nested(limits.JSON_DEPTH_MAX - 1) + "}"
    assert read_json(deepest)["input"] == json.loads(nested(limits.JSON_DEPTH_MAX - 1))
    assert refusal('{"input": ' + nested(limits.JSON_DEPTH_MAX) + "}") == "too_deep"
    assert read_json('{"a": {"b": ' + nested(limits.JSON_DEPTH_MAX - 2) + "}}")
    assert refusal('{"a": {"b": ' + nested(limits.JSON_DEPTH_MAX - 1) + "}}") == "too_deep"


@pytest.mark.parametrize("depth", [21, 254, 255, 300, 999, 1_000, 5_000, 100_000])
def test_deep_nesting_is_too_deep_whatever_the_depth(depth: int) -> None:
    assert refusal('{"title": "p", "input": ' + nested(depth) + "}") == "too_deep"
    assert refusal('{"input": ' + "[" * depth) in ("too_deep", "malformed")  # unterminated: either is true


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]", "not_an_object"),
        ('[{"title": "first"}, {"title": "second", "budget": 50}]', "not_an_object"),
        ('"a string"', "not_an_object"),
        ("5", "not_an_object"),
        ("true", "not_an_object"),
        ("null", "not_an_object"),
        ('{"budget": 0, "budget": 5}', "duplicate_key"),
        ('{"input": {"a": 1, "b": 2, "a": 3}}', "duplicate_key"),
        ('{"input": [{"k": 1}, {"k": 2, "k": 2}]}', "duplicate_key"),
        ('{"value": NaN}', "non_finite_number"),
        ('{"value": Infinity}', "non_finite_number"),
        ('{"value": -Infinity}', "non_finite_number"),
        ('{"value": [1, 2, NaN]}', "non_finite_number"),
        ('{"value": 1e400}', "number_too_large"),
        ('{"value": -1e400}', "number_too_large"),
        ('{"value": 1' + "0" * 400 + ".5}", "number_too_large"),
        ('{"value": ' + "9" * 21 + "}", "number_too_large"),
        ('{"value": -' + "9" * 21 + "}", "number_too_large"),
        ('{"value": ' + "9" * 5_000 + "}", "number_too_large"),  # past Python's 4,300-digit int conversion limit
        ('{"title": "a\\ud800b"}', "unpaired_surrogate"),
        ('{"title": "\\udfff"}', "unpaired_surrogate"),
        ('{"\\ud800": 1}', "unpaired_surrogate"),
        ('{"title": "a\ud800b"}', "not_utf8"),  # a raw lone surrogate: bytes that were not UTF-8
        ('{"title": "unterminated', "malformed"),
        ("", "malformed"),
        ("   ", "malformed"),
        ("{'single': 'quotes'}", "malformed"),
        ('{"trailing": 1,}', "malformed"),
        ("\ufeff{}", "malformed"),  # a byte order mark
        ('{"a": 1} {"b": 2}', "malformed"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else value,
)
def test_what_the_reader_refuses_and_why(text: str, reason: str) -> None:
    assert refusal(text) == reason


def test_the_largest_integer_is_read_and_one_digit_more_is_refused() -> None:
    assert read_json('{"n": ' + "9" * 20 + ', "m": -' + "9" * 20 + "}") == {"n": 10**20 - 1, "m": -(10**20 - 1)}
    assert refusal('{"n": 1' + "0" * 20 + "}") == "number_too_large"


def test_a_duplicate_key_is_named() -> None:
    with pytest.raises(InvalidJson) as refused:
        read_json('{"budget": 0, "title": "x", "budget": 5}')
    assert "'budget'" in refused.value.message


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES)
def test_whatever_the_reader_accepts_json_serializes_and_pydantic_renders(value: Any) -> None:
    text = json.dumps({"value": value})  # NaN and Infinity come out as Python's json writes them
    try:
        read = read_json(text)
    except InvalidJson as refused:
        assert refused.extra["reason"] in ("too_deep", "non_finite_number", "number_too_large")
        return
    json.dumps(read, allow_nan=False).encode()

    class Holder(BaseModel):
        value: Any

    Holder(value=read["value"]).model_dump_json()
    assert json_problem(read, limits.JSON_DEPTH_MAX) is None


# ---- every body, at the door ---------------------------------------------------------------------------------


def event(body: str | None, encoded: bool = False) -> dict[str, Any]:
    return {"body": body, "isBase64Encoded": encoded, "headers": {"Content-Type": "text/plain"}, "requestContext": {}}


def test_a_base64_body_that_is_utf8_becomes_text_and_is_read() -> None:
    sent = event(base64.b64encode('{"title": "é"}'.encode()).decode(), encoded=True)
    assert _as_json_request(sent) is None
    assert sent["body"] == '{"title": "é"}' and sent["isBase64Encoded"] is False
    assert sent["headers"] == {"Content-Type": "application/json"}
    _read_body(sent)


@pytest.mark.parametrize("raw", [b'{"title": "\xff"}', b'{"title": "\xc3"}', b"\xfe\xff\x00{"])
def test_a_base64_body_that_is_not_utf8_is_refused_at_the_door(raw: bytes) -> None:
    sent = event(base64.b64encode(raw).decode(), encoded=True)
    assert _as_json_request(sent) is None
    with pytest.raises(InvalidJson) as refused:
        _read_body(sent)
    assert refused.value.extra["reason"] == "not_utf8"


def test_a_body_that_is_not_even_base64_is_refused_as_not_utf8() -> None:
    sent = event("not base64!", encoded=True)
    assert _as_json_request(sent) is None
    with pytest.raises(InvalidJson):
        _read_body(sent)


def test_no_body_is_nothing_to_read() -> None:
    _read_body(event(None))


def test_the_door_reads_a_body_once_and_hands_the_route_what_it_read() -> None:
    assert _read_body(event('{"title": "t", "input": [1, 2]}')) == {"title": "t", "input": [1, 2]}
    with pytest.raises(InvalidJson):
        _read_body(event("[1]"))  # one JSON object, nothing else


def test_the_size_limit_counts_utf8_bytes() -> None:
    just = '{"a": "' + "x" * (limits.BODY_MAX_BYTES - 9) + '"}'
    assert len(just.encode()) == limits.BODY_MAX_BYTES and _as_json_request(event(just)) is None
    wide = '{"a": "' + "é" * (limits.BODY_MAX_BYTES // 2) + '"}'  # fewer characters than the limit, more bytes
    refused = _as_json_request(event(wide))
    assert refused is not None and refused["statusCode"] == 413
    assert set(json.loads(refused["body"])) == {"error", "code", "request_id"}


# ---- display strings -----------------------------------------------------------------------------------------

NEVER = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f"]
NEVER += ["\u061c", "\u2028", "\u2029", "\r", "\ud800"]
LINE_ONLY = ["\n", "\t"]  # refused in a one-line label, fine in a long text
FINE = ["é", "日本", "😀", "👨\u200d👩\u200d👧", "a b", "<b>", "' OR 1=1 --", "\u00a0"]

LINES: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
    (CreateTaskRequest, "title", {}),
    (CreateTaskRequest, "posted_by", {"title": "t"}),
    (ClaimRequest, "agent_id", {}),
    (CreateKeyRequest, "name", {}),
    (RegisterAgentRequest, "name", {}),
    (UpdateProfileRequest, "name", {}),
    (RegisterOwnerRequest, "name", {}),
    (RegistrationTokenRequest, "agent_name", {"agent_id": "ada-coder"}),
    (ConnectRequest, "agent_name", {"registration_token": "atr_x", "agent_id": "ada-coder"}),
]
TEXTS: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
    (CreateTaskRequest, "description", {"title": "t"}),
    (RegisterAgentRequest, "description", {"name": "n"}),
    (UpdateProfileRequest, "description", {}),
    (ReviewRequest, "comment", {"rating": 5}),
    (RejectRequest, "reason", {}),
]
EMAILS: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
    (CreateKeyRequest, "email", {}),
    (RegisterOwnerRequest, "email", {"name": "n"}),
    (RegisterAgentRequest, "owner_email", {"name": "n"}),
]


def ids(cases: list[tuple[type[BaseModel], str, dict[str, Any]]]) -> list[str]:
    return [f"{model.__name__}.{field}" for model, field, _ in cases]


@pytest.mark.parametrize(("model", "field", "rest"), LINES + TEXTS, ids=ids(LINES + TEXTS))
@pytest.mark.parametrize("char", NEVER, ids=lambda c: f"U+{ord(c):04X}")
def test_no_display_string_holds_a_control_or_bidi_character(
    model: type[BaseModel], field: str, rest: dict[str, Any], char: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({**rest, field: f"ab{char}cd"})
    assert refused.value.errors()[0]["loc"] == (field,)
    if char != "\ud800":  # pydantic itself refuses a string that is not Unicode text
        assert f"U+{ord(char):04X}" in str(refused.value)


@pytest.mark.parametrize(("model", "field", "rest"), LINES, ids=ids(LINES))
@pytest.mark.parametrize("char", LINE_ONLY, ids=repr)
def test_a_one_line_label_holds_no_line_feed_or_tab(
    model: type[BaseModel], field: str, rest: dict[str, Any], char: str
) -> None:
    with pytest.raises(ValidationError):
        model.model_validate({**rest, field: f"ab{char}cd"})


@pytest.mark.parametrize(("model", "field", "rest"), TEXTS, ids=ids(TEXTS))
def test_a_long_text_holds_line_feeds_and_tabs_and_reads_cr_lf_as_a_line_feed(
    model: type[BaseModel], field: str, rest: dict[str, Any]
) -> None:
    made = model.model_validate({**rest, field: "first line\r\n\tsecond\nthird"})
    assert getattr(made, field) == "first line\n\tsecond\nthird"


@pytest.mark.parametrize(("model", "field", "rest"), LINES + TEXTS, ids=ids(LINES + TEXTS))
@pytest.mark.parametrize("text", FINE)
def test_ordinary_text_in_any_script_is_fine(
    model: type[BaseModel], field: str, rest: dict[str, Any], text: str
) -> None:
    assert getattr(model.model_validate({**rest, field: f"x{text}y"}), field) == f"x{text}y"


@pytest.mark.parametrize(("model", "field", "rest"), EMAILS, ids=ids(EMAILS))
def test_an_email_holds_no_control_character_either(model: type[BaseModel], field: str, rest: dict[str, Any]) -> None:
    assert getattr(model.model_validate({**rest, field: "ops@example.com"}), field) == "ops@example.com"
    with pytest.raises(ValidationError):
        model.model_validate({**rest, field: "ops\x00@example.com"})


def test_the_limits_still_count_characters_after_the_rule() -> None:
    assert CreateTaskRequest(title="é" * limits.TITLE_MAX).title == "é" * limits.TITLE_MAX
    with pytest.raises(ValidationError):
        CreateTaskRequest(title="é" * (limits.TITLE_MAX + 1))


# ---- stored JSON fields ----------------------------------------------------------------------------------------

JSON_FIELDS: list[tuple[type[BaseModel], str, dict[str, Any]]] = [
    (CreateTaskRequest, "input", {"title": "t"}),
    (CreateTaskRequest, "output_schema", {"title": "t"}),
    (DeliverRequest, "result", {}),
    (RegisterAgentRequest, "metadata", {"name": "n"}),
    (UpdateProfileRequest, "metadata", {}),
    (ConnectRequest, "metadata", {"registration_token": "atr_x", "agent_id": "ada-coder", "agent_name": "n"}),
]


def deep_object(levels: int) -> dict[str, Any]:
    """An object `levels` levels deep: {"a": {"a": ... {}}}."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(("model", "field", "rest"), JSON_FIELDS, ids=ids(JSON_FIELDS))
def test_a_stored_json_field_is_at_most_its_depth(model: type[BaseModel], field: str, rest: dict[str, Any]) -> None:
    deepest = deep_object(limits.JSON_FIELD_DEPTH_MAX)
    assert getattr(model.model_validate({**rest, field: deepest}), field) == deepest
    with pytest.raises(ValidationError) as refused:
        model.model_validate({**rest, field: deep_object(limits.JSON_FIELD_DEPTH_MAX + 1)})
    assert "levels deep" in str(refused.value)


@pytest.mark.parametrize(("model", "field", "rest"), JSON_FIELDS, ids=ids(JSON_FIELDS))
@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), -float("inf"), 10**20, -(10**20), "\ud800", b"bytes", {1: "x"}], ids=repr
)
def test_a_stored_json_field_holds_only_what_renders(
    model: type[BaseModel], field: str, rest: dict[str, Any], bad: Any
) -> None:
    # the models refuse these even when built without the reader (as the service's tests build them)
    with pytest.raises(ValidationError):
        model.model_validate({**rest, field: {"value": [bad]}})


def test_json_problem_counts_levels_and_reads_without_recursion() -> None:
    assert json_problem(1, 0) is None and json_problem([], 0) == json_problem({}, 0)
    assert json_problem([], 1) is None and json_problem([[]], 1) is not None
    very_deep: list[Any] = []
    for _ in range(100_000):
        very_deep = [very_deep]
    assert json_problem(very_deep, 20) == ("too_deep", "nests arrays and objects more than 20 levels deep")


def test_json_problem_takes_subclasses_of_json_types_and_nothing_else() -> None:
    import collections
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    assert json_problem(collections.OrderedDict(a=[Level.HIGH, True, None, (1, 2.5)]), 3) is None
    assert json_problem({"a": {1, 2}}, 5) == ("not_json", "has a set, which is not a JSON value")
    assert json_problem({"a": 10**20}, 5) is not None and json_problem({"a": 10**20 - 1}, 5) is None


# ---- reading stored items tolerantly ---------------------------------------------------------------------------


class Shown(BaseModel):
    value: Any


def deep_list(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_a_listing_skips_an_item_that_cannot_be_built_or_rendered_and_counts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from taskboard.runtime import logger, metrics

    counted: list[dict[str, Any]] = []
    logged: list[dict[str, Any]] = []
    monkeypatch.setattr(metrics, "add_metric", lambda **metric: counted.append(metric))
    monkeypatch.setattr(logger, "warning", lambda message, extra: logged.append({"message": message, **extra}))
    items: list[dict[str, Any]] = [
        {"id": "a", "v": 1},
        {"id": "b", "v": deep_list(300)},
        {"id": "c"},
        {"id": "d", "v": "\ud800"},
    ]
    shown = tolerant.read_all(items, lambda item: Shown(value=item["v"]), lambda item: f"TASK#{item['id']}", "task")
    assert shown == [Shown(value=1)]
    assert [metric["name"] for metric in counted] == ["UnreadableItems"] * 3
    assert all(metric["value"] == 1 for metric in counted)
    assert [(line["item_key"], line["item_kind"]) for line in logged] == [(f"TASK#{name}", "task") for name in "bcd"]
    assert "Maximum serialization depth" in logged[0]["error"] and "KeyError" in logged[1]["error"]


def test_read_returns_none_and_require_raises_for_an_unreadable_item(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskboard.runtime import metrics

    monkeypatch.setattr(metrics, "add_metric", lambda **metric: None)
    assert tolerant.read(Shown, key="k", kind="task") is None  # a missing field
    assert tolerant.read(lambda: Shown(value=[1]), key="k", kind="task") == Shown(value=[1])
    assert tolerant.require(Shown.model_validate, {"value": 2}, key="k", kind="task") == Shown(value=2)
    with pytest.raises(tolerant.Unreadable) as unreadable:
        tolerant.require(lambda: Shown(value=deep_list(300)), key="TASK#x", kind="task")
    assert unreadable.value.key == "TASK#x"


def test_stored_dicts_are_checked_as_a_response_would_serialize_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskboard.runtime import metrics

    monkeypatch.setattr(metrics, "add_metric", lambda **metric: None)
    events: list[dict[str, Any]] = [{"id": "evt_1"}, {"id": "evt_2", "data": deep_list(300)}, {"id": "evt_3"}]
    assert tolerant.read_all(events, tolerant.same, lambda event: event["id"], "event") == [events[0], events[2]]
