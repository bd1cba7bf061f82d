"""The fields every domain's API models share: display strings, names, e-mails, tags, the strict request base,
examples, and the one error shape."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from taskboard.core import limits

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# text (DisplayText) may hold line feeds and tabs; a CR LF in it is read as a line feed, a lone CR is refused.
_NEVER_SHOWN = r"\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_REFUSED_IN_LINE = re.compile(rf"[\x00-\x0a{_NEVER_SHOWN}]")
_REFUSED_IN_TEXT = re.compile(rf"[\x00-\x08{_NEVER_SHOWN}]")  # tab (U+0009) and line feed (U+000A) are text


def _displayable(refused: re.Pattern[str], note: str) -> Any:
    def check(value: str) -> str:
        found = refused.search(value)
        if found is not None:
            raise ValueError(
                f"must not contain control characters or invisible bidirectional formatting characters{note}; "
                f"found U+{ord(found.group()):04X} at character {found.start() + 1}"
            )
        return value

    return check


def _crlf(value: Any) -> Any:
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


# A one-line label (a title, a name, posted_by, agent_id) and a long text (a description, a comment, a reason);
# length limits are added where each is used.
ONE_LINE = AfterValidator(_displayable(_REFUSED_IN_LINE, ""))
DisplayLine = Annotated[str, ONE_LINE]
DisplayText = Annotated[
    str, BeforeValidator(_crlf), AfterValidator(_displayable(_REFUSED_IN_TEXT, " (line feeds and tabs are fine)"))
]
Name = Annotated[DisplayLine, Field(min_length=1, max_length=limits.NAME_MAX)]
# the rule after the pattern: a pattern given after a validator is enforced but left out of the JSON Schema
Email = Annotated[str, Field(max_length=limits.EMAIL_MAX, pattern=EMAIL_PATTERN), ONE_LINE]


def normalize_tag(raw: str) -> str:
    tag = raw.strip().lower()
    if not tag or len(tag) > limits.TAG_MAX_LEN or not TAG_PATTERN.match(tag):
        raise ValueError(
            f"tag {raw!r} must be 1-{limits.TAG_MAX_LEN} characters of a-z, 0-9, '.', '_', '+', '-' "
            "(starting with a letter or digit)"
        )
    return tag


def tag_list(value: Any) -> Any:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return value  # let pydantic report the type error
    return list(dict.fromkeys(normalize_tag(item) for item in value))


# What the OpenAPI document says a tag is. The validator (normalize_tag) strips and lower-cases first, so the
# documented pattern admits upper case; tests/unit/test_openapi.py checks the two agree.
TAG_SCHEMA = {
    "type": "string",
    "pattern": f"^[A-Za-z0-9][A-Za-z0-9._+-]{{0,{limits.TAG_MAX_LEN - 1}}}$",
    "description": "Lower-cased on the way in.",
}
Tag = Annotated[str, WithJsonSchema(TAG_SCHEMA)]


def with_examples(*examples: dict[str, Any]) -> ConfigDict:
    """A request model's examples: shown in the OpenAPI document (and the docs page) with its body."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class ApiModel(BaseModel):
    """Every API model: built on first use (defer_build), so a function builds only the models it uses, not every
    model of the domain modules it imports (each model built at import costs a cold start ~5-10 ms of CPU)."""

    model_config = ConfigDict(defer_build=True)


class RequestModel(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class ErrorResponse(ApiModel):
    """The one error shape of every endpoint."""

    error: str = Field(description="What went wrong, for a person.")
    code: str = Field(description="Stable machine-readable code, e.g. task_not_claimable.")
    request_id: str | None = None
    reason: str | None = Field(
        default=None,
        description="invalid_json: the rule the body broke (not_utf8, malformed, not_an_object, too_deep, "
        "duplicate_key, non_finite_number, number_too_large, unpaired_surrogate).",
    )
    details: list[dict[str, Any]] | None = Field(default=None, description="Field errors of a bad request.")
    validation_errors: list[str] | None = Field(default=None, description="result_invalid: each with its JSON pointer.")
    expected_schema: dict[str, Any] | None = Field(
        default=None, description="result_invalid: the task's output_schema."
    )
