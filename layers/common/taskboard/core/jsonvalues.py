"""JSON values that may be stored and shown: the size every byte limit uses, and what a JSON field may hold."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from taskboard.core import limits


def json_size(value: Any) -> int:
    """Size of `value` as compact UTF-8 JSON: the measure every byte limit uses."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# ---- what may be stored and shown ------------------------------------------------------------------------------
# Validated means storable and renderable: what a request model accepts can be written, read back and serialized
# into every response that carries it (pydantic's serializer, json, DynamoDB) without an error.

_BIG_INT = 10**limits.JSON_INT_DIGITS_MAX
_SURROGATE = re.compile(r"[\ud800-\udfff]")


_JSON_TYPES = (bool, int, float, str, dict, list, tuple, type(None))  # bool before int: a bool is an int
_EXACT_JSON_TYPES = frozenset(_JSON_TYPES)


def json_problem(value: Any, max_depth: int) -> tuple[str, str] | None:
    """Why `value` (parsed JSON, or what a model was given for a JSON field) cannot be stored and shown, as
    (reason, what is wrong), or None when it can. JSON values only (objects with string keys, arrays, strings,
    numbers, true, false, null), arrays and objects nested at most `max_depth` levels (a scalar is 0 levels, `[]`
    one), integers of at most limits.JSON_INT_DIGITS_MAX digits, finite floats, and strings (keys too) that are
    Unicode text (no unpaired UTF-16 surrogate, which `"\\ud800"` would give). Reads breadth first, no recursion:
    about 20 ms for the largest body of small items."""
    level: list[Any] = [value]
    depth = 0
    while level:
        below: list[Any] = []
        for item in level:
            kind: type | None = type(item)
            if kind not in _EXACT_JSON_TYPES:  # a subclass (an IntEnum, an OrderedDict), or not JSON at all
                kind = next((json_type for json_type in _JSON_TYPES if isinstance(item, json_type)), None)
                if kind is None:
                    return "not_json", f"has a {type(item).__name__}, which is not a JSON value"
            if kind is int:
                if not -_BIG_INT < item < _BIG_INT:
                    return "number_too_large", f"has an integer of more than {limits.JSON_INT_DIGITS_MAX} digits"
            elif kind is str:
                if not item.isascii() and _SURROGATE.search(item):
                    return "unpaired_surrogate", "has a string with an unpaired UTF-16 surrogate (\\ud800-\\udfff)"
            elif kind is dict or kind is list or kind is tuple:
                if depth == max_depth:
                    return "too_deep", f"nests arrays and objects more than {max_depth} levels deep"
                if kind is dict:
                    for key in item:
                        if not isinstance(key, str):
                            return "not_json", "has an object key that is not a string"
                        if not key.isascii() and _SURROGATE.search(key):
                            return "unpaired_surrogate", "has a key with an unpaired UTF-16 surrogate (\\ud800-\\udfff)"
                    below.extend(item.values())
                else:
                    below.extend(item)
            elif kind is float and not math.isfinite(item):
                return "non_finite_number", "has NaN or Infinity, which are not JSON numbers"
        level, depth = below, depth + 1
    return None


def stored_json(value: Any, name: str, max_bytes: int) -> Any:
    """A JSON field that is stored and shown again (input, output_schema, result, metadata): at most
    limits.JSON_FIELD_DEPTH_MAX levels deep and `max_bytes` of compact UTF-8 JSON, and nothing json_problem
    refuses. Raises ValueError (a 400 naming the field)."""
    problem = json_problem(value, limits.JSON_FIELD_DEPTH_MAX)
    if problem is not None:
        raise ValueError(f"{name} {problem[1]}")
    if json_size(value) > max_bytes:
        raise ValueError(f"{name} must be at most {max_bytes} bytes of JSON")
    return value


# The one display-string rule. No string a person reads as text may hold the C0 controls (NUL, BEL, ESC, ...), DEL
# or the C1 controls, the line and paragraph separators U+2028/U+2029, unpaired surrogates, or the invisible
# bidirectional formatting characters that reorder what a reader sees (U+202E shows "gpj.exe" as "exe.jpg"): the
# embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069 and the marks U+200E, U+200F, U+061C. A long
