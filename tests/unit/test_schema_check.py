"""output_schema checks at creation, and delivered results against them."""

from __future__ import annotations

import time
from typing import Any

import pytest

from taskboard.core.errors import InvalidOutputSchema, ResultTooComplex
from taskboard.core.schema_check import MESSAGE_MAX, RESULT_CHECK_SECONDS, check_output_schema, result_errors

SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["zip", "median_value"],
        "properties": {"zip": {"type": "string"}, "median_value": {"type": "number", "minimum": 0}},
    },
}


def test_errors_name_their_json_pointer() -> None:
    errors = result_errors(SCHEMA, [{"zip": 90210}, {"zip": "1", "median_value": -1}])
    assert "/0/zip must be string" in errors
    assert "/0 must have required property 'median_value'" in errors
    assert "/1/median_value must be >= 0" in errors


def test_a_matching_result_has_no_errors() -> None:
    assert result_errors(SCHEMA, [{"zip": "90210", "median_value": 3.5e6}]) == []


def test_root_errors_have_no_pointer() -> None:
    assert result_errors({"type": "object"}, [1]) == ["must be object"]


def test_error_list_is_bounded() -> None:
    errors = result_errors({"type": "array", "items": {"type": "string"}}, list(range(500)))
    assert len(errors) == 50


@pytest.mark.parametrize(
    "schema",
    [{"type": "nope"}, {"properties": {"a": {"minimum": "zero"}}}, {"required": "a"}],
)
def test_invalid_schemas_are_refused(schema: dict) -> None:
    with pytest.raises(InvalidOutputSchema):
        check_output_schema(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "https://example.com/schema.json"},
        {"properties": {"a": {"$ref": "http://169.254.169.254/latest/meta-data"}}},
        {"items": [{"$ref": "other.json#/x"}]},
    ],
)
def test_remote_refs_are_refused_before_anything_is_fetched(schema: dict) -> None:
    with pytest.raises(InvalidOutputSchema, match="remote"):
        check_output_schema(schema)


def test_local_refs_work() -> None:
    schema = {"$defs": {"zip": {"type": "string"}}, "type": "object", "properties": {"zip": {"$ref": "#/$defs/zip"}}}
    check_output_schema(schema)
    assert result_errors(schema, {"zip": 1}) == ["/zip must be string"]


def test_an_older_draft_named_by_the_schema_is_honoured() -> None:
    draft4 = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number",
        "maximum": 5,
        "exclusiveMaximum": True,
    }
    check_output_schema(draft4)
    assert result_errors(draft4, 5) != []


# ---- hostile schemas and results: nothing makes a check slow, nothing answers a 5xx ----------------------------


def _exponential(levels: int = 30) -> dict[str, Any]:
    """2**levels paths through anyOf and $ref, every one failing: jsonschema alone never finishes."""
    defs: dict[str, Any] = {
        f"l{i}": {"anyOf": [{"$ref": f"#/$defs/l{i + 1}"}, {"$ref": f"#/$defs/l{i + 1}"}]} for i in range(levels)
    }
    defs[f"l{levels}"] = {"type": "string"}
    return {"$defs": defs, "$ref": "#/$defs/l0"}


def test_a_check_that_runs_past_its_deadline_is_refused_as_too_complex() -> None:
    schema = _exponential()
    check_output_schema(schema)  # a small schema: posting it is fine
    started = time.monotonic()
    with pytest.raises(ResultTooComplex) as refused:
        result_errors(schema, 1, seconds=0.3)
    assert time.monotonic() - started < 2
    assert refused.value.status == 422 and refused.value.code == "result_too_complex"
    assert "it took more than 0.3 s. Nothing was recorded" in refused.value.message


def test_the_default_budget_holds_too() -> None:
    """With the default deadline, the budget of errors kept is what stops this one first."""
    started = time.monotonic()
    with pytest.raises(ResultTooComplex, match=r"(more than 20,000 validation errors|took more than)"):
        result_errors(_exponential(), 1)
    assert time.monotonic() - started < RESULT_CHECK_SECONDS + 2


def test_exponential_dependent_schemas_under_unevaluated_properties_are_bounded() -> None:
    """jsonschema's unevaluatedProperties walks subschemas in a helper of its own, outside any keyword: the type
    checks it makes there are watched too."""
    defs = {
        f"d{i}": {"dependentSchemas": {"a": {"$ref": f"#/$defs/d{i + 1}"}, "b": {"$ref": f"#/$defs/d{i + 1}"}}}
        for i in range(40)
    }
    defs["d40"] = {}
    for draft in ("https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2019-09/schema"):
        schema = {"$schema": draft, "$defs": defs, "$ref": "#/$defs/d0", "unevaluatedProperties": False}
        started = time.monotonic()
        with pytest.raises(ResultTooComplex):
            result_errors(schema, {"a": 1, "b": 2}, seconds=0.3)
        assert time.monotonic() - started < 2


def test_a_subschema_naming_another_draft_stays_watched() -> None:
    schema = _exponential()
    schema["$defs"]["l0"] = {"$schema": "http://json-schema.org/draft-07/schema#", **schema["$defs"]["l0"]}
    started = time.monotonic()
    with pytest.raises(ResultTooComplex):
        result_errors(schema, 1, seconds=0.3)
    assert time.monotonic() - started < 2


def test_error_messages_that_quote_a_large_value_cannot_fill_memory() -> None:
    """Each failing branch's message quotes the 100 KB string: 2,000 of them were 200 MB."""
    started = time.monotonic()
    with pytest.raises(ResultTooComplex, match="characters"):
        result_errors({"anyOf": [{"maxLength": 1}] * 2000}, "x" * 100_000)
    assert time.monotonic() - started < 2


def test_errors_kept_inside_an_anyof_are_bounded() -> None:
    schema = {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]}
    with pytest.raises(ResultTooComplex, match="validation errors"):
        result_errors(schema, [1] * 50_000)


def test_many_errors_at_the_top_are_answered_quickly() -> None:
    started = time.monotonic()
    errors = result_errors({"type": "array", "items": {"type": "string"}}, [1] * 50_000)
    assert len(errors) == 50 and errors[0] == "/0 must be string"
    assert time.monotonic() - started < 2


def test_unique_items_is_linear_and_keeps_json_equality() -> None:
    started = time.monotonic()
    assert result_errors({"uniqueItems": True}, [{"a": i} for i in range(30_000)]) == []
    assert time.monotonic() - started < 2
    assert result_errors({"uniqueItems": True}, [{"a": [1, {"b": 2}]}, {"a": [1.0, {"b": 2.0}]}]) != []
    assert result_errors({"uniqueItems": True}, [1, True, 0, False, None, "1", [1], [True]]) == []
    assert result_errors({"uniqueItems": True}, [[1, 2], [1, 2]]) != []
    assert result_errors({"uniqueItems": False}, [1, 1]) == []


def test_a_schema_too_big_to_check_in_time_is_refused_not_timed_out() -> None:
    started = time.monotonic()
    with pytest.raises(InvalidOutputSchema, match="too complex to check"):
        check_output_schema({"anyOf": [{}] * 16_000}, seconds=0.3)
    assert time.monotonic() - started < 2


def test_long_messages_are_cut() -> None:
    (error,) = result_errors({"pattern": "^a"}, "b" * 10_000)
    assert len(error) == MESSAGE_MAX and error.endswith("...")


def test_draft3_types_that_are_schemas_are_described() -> None:
    schema = {"$schema": "http://json-schema.org/draft-03/schema#", "type": ["string", {"type": "integer"}]}
    assert result_errors(schema, 1.5) != []
