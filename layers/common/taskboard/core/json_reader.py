"""The one JSON reader at the door: every request body of every endpoint is read by `read_json`, and so is the
body an Idempotency-Key compares (taskboard.http.idempotency). No other parser reads a request."""

from __future__ import annotations

import json
import math
from typing import Any

from taskboard.core import limits
from taskboard.core.errors import InvalidJson
from taskboard.core.jsonvalues import json_problem

# Why a body was refused: the `reason` of a 400 invalid_json (README "Errors").
JSON_REASONS = (
    "not_utf8",  # the body's bytes are not UTF-8 text
    "malformed",  # not JSON at all (a syntax error, a UTF-8 byte order mark)
    "not_an_object",  # an array, a string, a number, true, false or null at the top
    "too_deep",  # arrays and objects nested more than limits.JSON_DEPTH_MAX levels
    "duplicate_key",  # one object with the same key twice
    "non_finite_number",  # NaN, Infinity, -Infinity (Python's json reads them; JSON has no such numbers)
    "number_too_large",  # an integer of more than limits.JSON_INT_DIGITS_MAX digits, a float beyond 1.8e308
    "unpaired_surrogate",  # a \\ud800-\\udfff escape that is not half of a pair: not Unicode text
)


class _Refused(ValueError):
    """Raised from inside json.loads (its hooks) to stop reading at the first rule broken."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _constant(name: str) -> Any:
    raise _Refused("non_finite_number", f"has {name}, which is not a JSON number (JSON has no NaN or Infinity)")


def _float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused("number_too_large", f"has the number {literal[:40]}, beyond the range of a double (1.8e308)")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) != len(pairs):  # json.loads alone keeps the last: {"budget": 0, "budget": 5} would be 5
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused("duplicate_key", f"has the key {key!r} twice in one object")
            seen.add(key)
    return made


_KINDS = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}


def read_json(text: str) -> dict[str, Any]:
    """The request body as one JSON object, or InvalidJson (400 invalid_json with its `reason`, JSON_REASONS).

    Strict JSON that can be stored and shown again: UTF-8 text, an object at the top, arrays and objects nested
    at most limits.JSON_DEPTH_MAX levels (the body's own object is the first), no key twice in one object, no
    NaN/Infinity, integers of at most limits.JSON_INT_DIGITS_MAX digits, finite floats (1e400 is refused, not
    read as infinity), strings without unpaired surrogates. Every body of every endpoint is read by this."""
    try:
        text.encode()  # a str that does not encode held bytes that were not UTF-8 (surrogateescape)
    except UnicodeEncodeError:
        raise InvalidJson("Request body is not UTF-8 text.", reason="not_utf8") from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)
    except _Refused as refused:
        raise InvalidJson(f"Request body {refused}.", reason=refused.reason) from None
    except RecursionError:
        raise InvalidJson(
            f"Request body nests arrays and objects more than {limits.JSON_DEPTH_MAX} levels deep.", reason="too_deep"
        ) from None
    except json.JSONDecodeError as error:
        raise InvalidJson(
            f"Request body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).",
            reason="malformed",
        ) from None
    except ValueError:  # an integer past Python's int/str conversion limit (4,300 digits)
        raise InvalidJson(
            f"Request body has an integer of more than {limits.JSON_INT_DIGITS_MAX} digits.", reason="number_too_large"
        ) from None
    if not isinstance(value, dict):
        kind = _KINDS.get(type(value), "a number")
        raise InvalidJson(f"Request body must be a JSON object, not {kind}.", reason="not_an_object")
    problem = json_problem(value, limits.JSON_DEPTH_MAX)
    if problem is not None:
        raise InvalidJson(f"Request body {problem[1]}.", reason=problem[0])
    return value
