"""JSON Schema handling: checking a poster's output_schema, and a delivered result against it.

Remote references are never fetched: a `$ref` must point inside the schema (`#...`), checked at creation, and
the validator runs with a registry that refuses every retrieval.

Neither check can be made slow. Patterns run on RE2 (taskboard.core.safe_regex), and one that RE2 cannot run is
refused when the task is posted, naming it. Both checks run within a deadline and a budget of validation errors
kept, watched from every keyword and type check of the validator: past either, a delivery is refused with
`422 result_too_complex` (ResultTooComplex) and a schema with `400 invalid_output_schema`, never a timeout."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from taskboard.core import safe_regex
from taskboard.core.errors import InvalidOutputSchema, ResultTooComplex
from taskboard.core.limits import VALIDATION_ERRORS_MAX

_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")

# The deadline of one check, and what it may keep: jsonschema holds every failing branch's errors of an anyOf
# (each ~3 KB, and its message quotes the value, up to the whole result), so without these a 100 KB result against
# a hostile schema could fill the function's memory before any deadline.
RESULT_CHECK_SECONDS = 2.0
SCHEMA_CHECK_SECONDS = 2.0
CHECK_ERRORS_MAX = 20_000
CHECK_TEXT_MAX = 16 * 1024 * 1024
# A result is known to be invalid once this many errors are found; the first VALIDATION_ERRORS_MAX of them (by
# pointer) are shown, each message cut to MESSAGE_MAX characters.
ERRORS_READ_MAX = 1_000
MESSAGE_MAX = 500

# Keywords whose values are instances, not schemas (a "pattern" key there is data), and those whose values map
# names to schemas (their keys are names, not keywords; patternProperties' keys are patterns).
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)
_JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string", "any")


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


# ---- the patterns of a schema ---------------------------------------------------------------------------------


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _resolve(root: Any, ref: str) -> Any:
    """The node a local `#/...` JSON pointer names in `root`, or None."""
    node = root
    for part in unquote(ref[2:]).split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def schema_patterns(schema: Any) -> list[tuple[str, str]]:
    """(JSON pointer, pattern) for every pattern a validator could run: each `pattern` string and each key of
    `patternProperties` in a schema position, the union of a `patternProperties` that `additionalProperties`
    reads as one pattern, and the same under whatever a local `$ref` points to (even inside `default`).
    Unknown keywords are searched as if they held schemas: a `$ref` can make them one."""
    found: list[tuple[str, str]] = []
    seen: set[int] = set()
    refs: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{path}/{index}")
            return
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen.add(id(node))
        for key, value in node.items():
            at = f"{path}/{_escape(key)}"
            if key in _DATA_KEYWORDS:
                continue
            if key == "pattern" and isinstance(value, str):
                found.append((at, value))
            elif key in _REF_KEYWORDS and isinstance(value, str) and value.startswith("#/"):
                refs.append(value)
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                if key == "patternProperties":
                    found.extend((f"{at}/{_escape(name)}", name) for name in value)
                    if len(value) > 1 and "additionalProperties" in node:
                        found.append((at, "|".join(value)))
                for name, subschema in value.items():
                    walk(subschema, f"{at}/{_escape(name)}")
            else:
                walk(value, at)

    walk(schema, "")
    while refs:
        ref = refs.pop()
        target = _resolve(schema, ref)
        if isinstance(target, dict | list) and id(target) not in seen:
            walk(target, ref[1:])
    return found


def _check_patterns(schema: Any) -> None:
    """InvalidOutputSchema naming the first pattern RE2 cannot run, or when they are too many or too large."""
    distinct: dict[str, str] = {}
    for pointer, pattern in schema_patterns(schema):
        distinct.setdefault(pattern, pointer)
    if len(distinct) > safe_regex.PATTERNS_MAX:
        raise InvalidOutputSchema(
            f"output_schema has {len(distinct)} different patterns; at most {safe_regex.PATTERNS_MAX} are allowed."
        )
    total = 0
    for pattern, pointer in distinct.items():
        safe_regex.check_time(force=True)
        try:
            total += safe_regex.compiled(pattern).program_size
        except safe_regex.PatternRefused as refused:
            union = pointer.endswith("/patternProperties")
            raise InvalidOutputSchema(
                f"output_schema's pattern at {pointer}"
                + (" (its keys as one pattern, which additionalProperties reads)" if union else "")
                + f", {safe_regex.quote(pattern)}, {refused.reason}. {safe_regex.WHY_RE2}",
                locations=[pointer],
            ) from None
        if total > safe_regex.PROGRAM_TOTAL_MAX:
            raise InvalidOutputSchema(
                f"output_schema's patterns compile to more than {safe_regex.PROGRAM_TOTAL_MAX:,} RE2 instructions "
                f"together (the limit is reached at {pointer}); bounded repetitions such as .{{1,255}} are the large "
                "ones: check lengths with minLength/maxLength instead.",
                locations=[pointer],
            )


# ---- validators that watch the budget -------------------------------------------------------------------------

_guarded_classes: dict[type, type] = {}


def _watched(keyword: Any) -> Any:
    def watched(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        safe_regex.check_time()
        errors = keyword(validator, value, instance, schema)
        if errors:
            for error in errors:
                safe_regex.spend(error.message)
                yield error

    return watched


def _canonical(value: Any) -> Any:
    """A hashable form of a JSON value, equal for values JSON Schema calls equal (1 and 1.0; not 1 and true)."""
    if value is True or value is False or value is None:
        return (type(value), value)
    if isinstance(value, int | float):
        return (float, value)
    if isinstance(value, str):
        return (str, value)
    if isinstance(value, list):
        return (list, tuple(map(_canonical, value)))
    if isinstance(value, dict):
        return (dict, frozenset((key, _canonical(item)) for key, item in value.items()))
    return (type(value), repr(value))


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's uniqueItems, in linear time: its own compares every pair of objects (minutes for 30,000)."""
    from jsonschema.exceptions import ValidationError

    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


def _timed_type(checker: Any, name: str) -> Any:
    check = getattr(checker, "_type_checkers", {}).get(name)  # the draft's own function: this runs very often

    def is_type(this: Any, instance: Any) -> bool:
        safe_regex.check_time()
        return bool(check(this, instance) if check is not None else checker.is_type(instance, name))

    return is_type


def _into_guarded(validator: Any) -> Any:
    """`validator` (of a plain jsonschema class) as the guarded class of the same draft."""
    import attrs

    kind = type(validator)
    fields = {field.alias: getattr(validator, field.name) for field in attrs.fields(kind) if field.init}
    return _guarded(kind)(**fields)


def _guarded(base: type) -> type:
    """`base` (a jsonschema validator class) with every keyword and type check watching the open budget, a linear
    uniqueItems, and evolve() keeping to guarded classes when a subschema names another draft in `$schema`."""
    if getattr(base, "_taskboard_guarded", False):
        return base
    found = _guarded_classes.get(base)
    if found is not None:
        return found
    from jsonschema.exceptions import UndefinedTypeCheck
    from jsonschema.validators import extend

    checker = base.TYPE_CHECKER  # type: ignore[attr-defined]
    types = {}
    for name in _JSON_TYPES:
        try:
            checker.is_type(None, name)
        except UndefinedTypeCheck:
            continue
        types[name] = _timed_type(checker, name)
    keywords = {name: _watched(keyword) for name, keyword in base.VALIDATORS.items()}  # type: ignore[attr-defined]
    if "uniqueItems" in keywords:
        keywords["uniqueItems"] = _watched(_unique_items)
    guarded: Any = extend(base, validators=keywords, type_checker=checker.redefine_many(types))
    evolve = guarded.evolve

    def guarded_evolve(self: Any, **changes: Any) -> Any:
        evolved = evolve(self, **changes)
        return evolved if getattr(type(evolved), "_taskboard_guarded", False) else _into_guarded(evolved)

    guarded.evolve = guarded_evolve
    guarded._taskboard_guarded = True
    _guarded_classes[base] = guarded
    return guarded  # type: ignore[no-any-return]


@functools.cache
def _schema_format_checker(meta: type) -> Any:
    return safe_regex.format_checker(meta.FORMAT_CHECKER)  # type: ignore[attr-defined]


def _budget(seconds: float) -> Any:
    return safe_regex.deadline(seconds, errors=CHECK_ERRORS_MAX, text=CHECK_TEXT_MAX)


# ---- the two checks -------------------------------------------------------------------------------------------


def check_output_schema(schema: dict[str, Any], seconds: float = SCHEMA_CHECK_SECONDS) -> None:
    """Raise InvalidOutputSchema unless `schema` is a valid JSON Schema with only local references, whose every
    pattern RE2 can run, checked within `seconds`."""
    from jsonschema.validators import validator_for

    safe_regex.install()
    remote = _remote_refs(schema)
    if remote:
        raise InvalidOutputSchema(
            "output_schema may only reference itself ('#/...'); remote $ref is not allowed.", locations=remote
        )
    try:
        with _budget(seconds):
            _check_patterns(schema)
            kind = validator_for(schema)
            meta = _guarded(validator_for(kind.META_SCHEMA, default=kind))  # type: ignore[attr-defined]
            checker = meta(kind.META_SCHEMA, format_checker=_schema_format_checker(meta))  # type: ignore[attr-defined]
            error = next(iter(checker.iter_errors(schema)), None)
    except safe_regex.TooComplex as too_complex:
        raise InvalidOutputSchema(
            f"output_schema is too complex to check: {too_complex.reason}. Make it smaller or simpler."
        ) from None
    except RecursionError:
        raise InvalidOutputSchema("output_schema is nested too deeply.") from None
    if error is not None:
        pointer = "/" + "/".join(str(part) for part in error.path) if error.path else ""
        raise InvalidOutputSchema(f"output_schema is not a valid JSON Schema: {pointer} {error.message}".strip())


def _describe(error: Any) -> str:
    """AgentDo-style message: the instance's JSON pointer, then what is wrong with it."""
    pointer = "/" + "/".join(str(part) for part in error.absolute_path) if error.absolute_path else ""
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        what = " or ".join(map(str, expected)) if isinstance(expected, list) else expected  # draft 3: schemas too
        message = f"must be {what}"
    elif kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        message = f"must have required property '{missing}'"
    elif kind == "additionalProperties" and expected is False:  # the patterns it names may hold parentheses
        detail = error.message.removeprefix("Additional properties are not allowed (").removesuffix(")")
        message = f"must not have additional properties ({detail})"
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
    described = f"{pointer} {message}" if pointer else message
    return described if len(described) <= MESSAGE_MAX else described[: MESSAGE_MAX - 3] + "..."


def result_errors(schema: dict[str, Any], result: Any, seconds: float = RESULT_CHECK_SECONDS) -> list[str]:
    """Every way `result` breaks `schema` (at most VALIDATION_ERRORS_MAX), each naming its JSON pointer.
    ResultTooComplex when the check runs past `seconds` or its budget of errors."""
    from jsonschema.validators import validator_for

    safe_regex.install()
    found: list[Any] = []
    try:
        with _budget(seconds):
            validator = _guarded(validator_for(schema))(schema, registry=_local_only_registry())
            for error in validator.iter_errors(result):
                found.append(error)
                if len(found) >= ERRORS_READ_MAX:
                    break
    except safe_regex.TooComplex as too_complex:
        raise ResultTooComplex(
            f"The result could not be checked against output_schema: {too_complex.reason}. Nothing was recorded; "
            "deliver a smaller result, or release the task if its schema cannot be met."
        ) from None
    except RecursionError:
        return ["result is nested too deeply to validate"]
    except safe_regex.PatternRefused as refused:  # a schema stored before patterns were checked at post time
        return [f"output_schema could not be applied: its pattern {safe_regex.quote(refused.pattern)} {refused.reason}"]
    except Exception as error:  # an unresolvable local $ref, say: the poster's schema is at fault, not the worker
        return [f"output_schema could not be applied: {type(error).__name__}"]
    found.sort(key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    return [_describe(error) for error in found[:VALIDATION_ERRORS_MAX]]
