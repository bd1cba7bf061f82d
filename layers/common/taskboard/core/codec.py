"""The one attribute codec: plain Python values <-> DynamoDB AttributeValues (the low-level client's shape).

Stores build items with `item(name=value, ...)` (None is left out) and read them with `text`, `number` and
`plain`; nothing else writes `{"S": ...}` by hand where these fit."""

from __future__ import annotations

from typing import Any


def attr(value: Any) -> dict[str, Any]:
    """One value as an AttributeValue: bool, int, float, str, or a list/tuple of those."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (list, tuple)):
        return {"L": [attr(item) for item in value]}
    raise TypeError(f"cannot store {type(value).__name__}")


def plain(value: dict[str, Any]) -> Any:
    """An AttributeValue back as a plain value (the inverse of `attr`)."""
    ((kind, inner),) = value.items()
    if kind == "N":
        return float(inner) if "." in inner or "e" in inner.lower() else int(inner)
    if kind == "L":
        return [plain(item) for item in inner]
    return inner


def item(**values: Any) -> dict[str, Any]:
    """Attributes from keyword values; a None value is left out (DynamoDB has no null here)."""
    return {name: attr(value) for name, value in values.items() if value is not None}


def text(stored: dict[str, Any], name: str) -> str | None:
    """A string attribute, or None when it is absent."""
    value = stored.get(name)
    return None if value is None else value.get("S")


def number(stored: dict[str, Any], name: str, default: int = 0) -> int:
    """An integer attribute, or `default` when it is absent."""
    value = stored.get(name)
    return default if value is None else int(value["N"])


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword values: values(one=1, now="...") -> {":one": {"N": "1"}, ...}."""
    return {f":{name}": attr(value) for name, value in named.items()}
