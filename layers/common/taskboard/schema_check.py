"""JSON Schema handling: checking a poster's output_schema, and a delivered result against it.

Remote references are never fetched: a `$ref` must point inside the schema (`#...`), checked at creation, and
the validator runs with a registry that refuses every retrieval."""

from __future__ import annotations

from typing import Any

from taskboard.errors import InvalidOutputSchema
from taskboard.limits import VALIDATION_ERRORS_MAX

_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _local_only_registry() -> Any:
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def refuse(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]

    return Registry(retrieve=refuse)  # type: ignore[call-arg]


def _remote_refs(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _REF_KEYWORDS and isinstance(value, str) and not value.startswith("#"):
                found.append(f"{path}/{key}")
            found.extend(_remote_refs(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_remote_refs(value, f"{path}/{index}"))
    return found


def check_output_schema(schema: dict[str, Any]) -> None:
    """Raise InvalidOutputSchema unless `schema` is a valid JSON Schema with only local references."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    remote = _remote_refs(schema)
    if remote:
        raise InvalidOutputSchema(
            "output_schema may only reference itself ('#/...'); remote $ref is not allowed.", locations=remote
        )
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as error:
        pointer = "/" + "/".join(str(part) for part in error.path) if error.path else ""
        raise InvalidOutputSchema(
            f"output_schema is not a valid JSON Schema: {pointer} {error.message}".strip()
        ) from None
    except RecursionError:
        raise InvalidOutputSchema("output_schema is nested too deeply.") from None


def _describe(error: Any) -> str:
    """AgentDo-style message: the instance's JSON pointer, then what is wrong with it."""
    pointer = "/" + "/".join(str(part) for part in error.absolute_path) if error.absolute_path else ""
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        what = " or ".join(expected) if isinstance(expected, list) else expected
        message = f"must be {what}"
    elif kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        message = f"must have required property '{missing}'"
    elif kind == "additionalProperties" and expected is False:
        message = "must not have additional properties (" + error.message.split("(")[-1]
    elif kind == "enum":
        message = f"must be equal to one of the allowed values {expected}"
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        message = f"must be {sign} {expected}"
    elif kind in ("minLength", "maxLength", "minItems", "maxItems"):
        unit = "characters" if kind.endswith("Length") else "items"
        bound = "fewer" if kind.startswith("max") else "more"
        message = f"must not have {bound} than {expected} {unit}"
    else:
        message = error.message
    return f"{pointer} {message}" if pointer else message


def result_errors(schema: dict[str, Any], result: Any) -> list[str]:
    """Every way `result` breaks `schema` (at most VALIDATION_ERRORS_MAX), each naming its JSON pointer."""
    from jsonschema.validators import validator_for

    validator = validator_for(schema)(schema, registry=_local_only_registry())
    try:
        errors = sorted(validator.iter_errors(result), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    except RecursionError:
        return ["result is nested too deeply to validate"]
    except Exception as error:  # an unresolvable local $ref, say: the poster's schema is at fault, not the worker
        return [f"output_schema could not be applied: {type(error).__name__}"]
    return [_describe(error) for error in errors[:VALIDATION_ERRORS_MAX]]
