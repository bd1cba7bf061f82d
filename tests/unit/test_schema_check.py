"""output_schema checks at creation, and delivered results against them."""

from __future__ import annotations

import pytest

from taskboard.errors import InvalidOutputSchema
from taskboard.schema_check import check_output_schema, result_errors

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
