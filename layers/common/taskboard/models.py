"""API models: what clients send and get back. These, not the table rows, are what the OpenAPI document shows."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from taskboard import limits

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._+-]*$")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


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
_ONE_LINE = AfterValidator(_displayable(_REFUSED_IN_LINE, ""))
DisplayLine = Annotated[str, _ONE_LINE]
DisplayText = Annotated[
    str, BeforeValidator(_crlf), AfterValidator(_displayable(_REFUSED_IN_TEXT, " (line feeds and tabs are fine)"))
]
Name = Annotated[DisplayLine, Field(min_length=1, max_length=limits.NAME_MAX)]
# the rule after the pattern: a pattern given after a validator is enforced but left out of the JSON Schema
Email = Annotated[str, Field(max_length=limits.EMAIL_MAX, pattern=EMAIL_PATTERN), _ONE_LINE]


def normalize_tag(raw: str) -> str:
    tag = raw.strip().lower()
    if not tag or len(tag) > limits.TAG_MAX_LEN or not TAG_PATTERN.match(tag):
        raise ValueError(
            f"tag {raw!r} must be 1-{limits.TAG_MAX_LEN} characters of a-z, 0-9, '.', '_', '+', '-' "
            "(starting with a letter or digit)"
        )
    return tag


def _tags(value: Any) -> Any:
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


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    """A request model's examples: shown in the OpenAPI document (and the docs page) with its body."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class CreateKeyRequest(_Request):
    model_config = _examples({"name": "scraper-7", "email": "ops@example.com"})
    email: Email | None = None
    name: Name | None = None


class CreateKeyResponse(BaseModel):
    key: str = Field(description="The API key. Shown once: only its SHA-256 is stored.")
    id: str = Field(description="The account the key belongs to.")
    key_id: str = Field(description="The key's own id (its first characters, safe to log).")
    created_at: str


class CreateTaskRequest(_Request):
    model_config = _examples(
        {
            "title": "Scrape 500 LA zip codes with median home values",
            "input": {"region": "Los Angeles", "count": 500},
            "output_schema": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["zip", "median_value"],
                    "properties": {"zip": {"type": "string"}, "median_value": {"type": "number"}},
                },
            },
            "tags": ["data", "scraping"],
            "timeout_minutes": 30,
            "budget": 25,
        }
    )
    title: Annotated[DisplayLine, Field(min_length=1, max_length=limits.TITLE_MAX)]
    description: Annotated[DisplayText, Field(max_length=limits.DESCRIPTION_MAX)] = ""
    input: Any = Field(
        default=None,
        description=f"Any JSON for the worker, at most {limits.INPUT_MAX_BYTES} bytes and "
        f"{limits.JSON_FIELD_DEPTH_MAX} levels deep.",
    )
    output_schema: dict[str, Any] | None = Field(
        default=None,
        description=f"A JSON Schema every delivered result must match; at most {limits.OUTPUT_SCHEMA_MAX_BYTES} bytes "
        f"and {limits.JSON_FIELD_DEPTH_MAX} levels deep, local $refs only.",
    )
    tags: Annotated[list[Tag], BeforeValidator(_tags), Field(max_length=limits.TAGS_MAX)] = []
    requires_human: bool = False
    timeout_minutes: Annotated[int, Field(ge=limits.TIMEOUT_MINUTES[0], le=limits.TIMEOUT_MINUTES[1])] | None = None
    timeout_seconds: Annotated[int, Field(ge=limits.TIMEOUT_SECONDS[0], le=limits.TIMEOUT_SECONDS[1])] | None = None
    max_attempts: Annotated[int, Field(ge=limits.MAX_ATTEMPTS[0], le=limits.MAX_ATTEMPTS[1])] = 3
    auto_complete_seconds: Annotated[
        int, Field(ge=limits.AUTO_COMPLETE_SECONDS[0], le=limits.AUTO_COMPLETE_SECONDS[1])
    ] = 86_400
    posted_by: Annotated[DisplayLine, Field(min_length=1, max_length=limits.LABEL_MAX)] | None = Field(
        default=None, description="A free label for the poster (an agent name); authorization uses the key."
    )
    budget: Annotated[int, Field(ge=0, le=limits.BUDGET_MAX)] = Field(
        default=0,
        description="Credits paid to the worker on completion (minus the platform fee), held in escrow from the "
        "poster's balance until then and refunded if the task is cancelled or fails; 402 if the balance is short.",
    )
    min_rating: Annotated[float, Field(ge=1, le=5)] | None = Field(
        default=None,
        description="A qualification: only agents whose mean review rating is at least this (to two decimals) are "
        "offered the task or may claim it; an agent without reviews has no rating.",
    )
    min_completed: Annotated[int, Field(ge=0, le=limits.MIN_COMPLETED_MAX)] = Field(
        default=0, description="A qualification: only agents with at least this many completed tasks."
    )
    callback_url: Annotated[str, Field(min_length=1, max_length=limits.URL_MAX)] | None = Field(
        default=None,
        description="An https URL that receives this task's events, signed (a one-task webhook subscription "
        "of the poster, id cb_<task id>); its secret is in the response, once.",
    )

    @field_validator("input")
    @classmethod
    def _input_size(cls, value: Any) -> Any:
        return stored_json(value, "input", limits.INPUT_MAX_BYTES)

    @field_validator("output_schema")
    @classmethod
    def _schema_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else stored_json(value, "output_schema", limits.OUTPUT_SCHEMA_MAX_BYTES)

    @field_validator("min_rating")
    @classmethod
    def _two_decimals(cls, value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    @model_validator(mode="after")
    def _one_timeout(self) -> CreateTaskRequest:
        if self.timeout_minutes is not None and self.timeout_seconds is not None:
            raise ValueError("give timeout_minutes or timeout_seconds, not both")
        return self

    @property
    def timeout(self) -> int:
        if self.timeout_seconds is not None:
            return self.timeout_seconds
        return (self.timeout_minutes or 60) * 60


class ClaimRequest(_Request):
    model_config = _examples({"agent_id": "mybot@example.com"})
    agent_id: Annotated[DisplayLine, Field(min_length=1, max_length=limits.LABEL_MAX)] | None = Field(
        default=None, description="A free label for the worker (AgentDo's agent_id); authorization uses the key."
    )


class WorkerRequest(_Request):
    model_config = _examples({"attempt": 1})
    attempt: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The claim's attempt number; when given, the call is refused for any other attempt."
    )


class DeliverRequest(WorkerRequest):
    model_config = _examples({"result": [{"zip": "90210", "median_value": 3500000}], "attempt": 1})
    result: Any = Field(
        default=None,
        description=f"The result, checked against output_schema; at most {limits.RESULT_MAX_BYTES} bytes and "
        f"{limits.JSON_FIELD_DEPTH_MAX} levels deep.",
    )
    result_url: Annotated[str, Field(max_length=limits.URL_MAX, pattern=r"^https?://\S+$")] | None = None

    @field_validator("result")
    @classmethod
    def _result_size(cls, value: Any) -> Any:
        return stored_json(value, "result", limits.RESULT_MAX_BYTES)


class RejectRequest(_Request):
    model_config = _examples({"reason": "Half of the zip codes are missing a median value."})
    reason: Annotated[DisplayText, Field(max_length=limits.REASON_MAX)] | None = None


TaskStatus = Literal["open", "claimed", "delivered", "completed", "failed", "cancelled"]


class Review(BaseModel):
    task_id: str
    worker_id: str
    poster_id: str
    rating: int
    comment: str | None
    tip: int
    created_at: str


class Task(BaseModel):
    id: str
    title: str
    description: str
    input: Any
    output_schema: dict[str, Any] | None
    tags: list[str]
    requires_human: bool
    timeout_seconds: int
    max_attempts: int
    auto_complete_seconds: int
    posted_by: str | None
    poster_id: str
    budget: int = Field(default=0, description="Credits in escrow for this task (0: unpaid).")
    min_rating: float | None = Field(default=None, description="Qualification: the least mean rating to claim it.")
    min_completed: int = Field(default=0, description="Qualification: the least number of completed tasks.")
    status: TaskStatus
    attempts: int = Field(description="Claims made so far; the current claim's attempt number while claimed.")
    claimed_by: str | None = Field(description="Account id of the current (or delivering) worker.")
    agent_id: str | None
    claimed_at: str | None
    expires_at: str | None
    delivered_at: str | None
    auto_complete_at: str | None
    completed_at: str | None
    cancelled_at: str | None
    failed_at: str | None
    last_rejection_reason: str | None
    result: Any = Field(default=None, description="Only for the poster and the worker; null for everyone else.")
    result_url: str | None = Field(default=None, description="Only for the poster and the worker.")
    review: Review | None = Field(default=None, description="The poster's review, once the task is completed.")
    created_at: str
    updated_at: str


class CallbackSubscription(BaseModel):
    webhook_id: str = Field(description="cb_<task id>: manage it under /webhooks/{webhook_id}.")
    url: str
    secret: str = Field(description="whsec_...: verifies this task's deliveries. Shown once.")


class CreatedTask(Task):
    callback: CallbackSubscription | None = Field(
        default=None, description="Only when callback_url was given, and only in this response."
    )


class TaskList(BaseModel):
    tasks: list[Task]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class NextTaskResponse(BaseModel):
    task: Task | None
    retry: bool = Field(description="True when nothing was found: call again at once (the server already waited).")


class ResultResponse(BaseModel):
    status: TaskStatus
    result: Any
    result_url: str | None
    task: Task
    retry: bool = Field(description="True while the task is not yet delivered or finished: call again at once.")


class ErrorResponse(BaseModel):
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


def budget_range(min_budget: int | None, max_budget: int | None) -> tuple[int | None, int | None]:
    """The min_budget/max_budget query parameters as (low, high); 400 when they cross."""
    from taskboard.errors import InvalidRequest

    if min_budget is not None and max_budget is not None and min_budget > max_budget:
        raise InvalidRequest("min_budget must not be greater than max_budget.")
    return min_budget, max_budget


def parse_skills(*raw: str | None) -> tuple[str, ...]:
    """Comma-separated skills (or tags) from a query string, normalized like task tags."""
    from taskboard.errors import InvalidRequest

    parts = [part for text in raw if text for part in text.split(",") if part.strip()]
    try:
        skills = tuple(dict.fromkeys(normalize_tag(part) for part in parts))
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    if len(skills) > limits.SKILLS_MAX:
        raise InvalidRequest(f"At most {limits.SKILLS_MAX} skills or tags per search.")
    return skills


# ---- webhooks and the event feed ---------------------------------------------------------------------------

EventType = Literal[
    "task.created",
    "task.claimed",
    "task.released",
    "task.delivered",
    "task.completed",
    "task.rejected",
    "task.expired",
    "task.failed",
    "task.cancelled",
    "task.reviewed",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


class CreateWebhookRequest(_Request):
    model_config = _examples(
        {"url": "https://my-agent.example.com/hooks", "events": ["task.delivered", "task.completed"]},
        {"url": "https://my-agent.example.com/new-work", "events": ["task.created"], "skills": ["scraping"]},
    )
    url: Annotated[str, Field(min_length=1, max_length=limits.URL_MAX)] = Field(
        description="https only; must not resolve to a private, loopback, link-local or metadata address."
    )
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))] | None = Field(
        default=None, description="Event types to receive; all of them when absent."
    )
    skills: Annotated[list[Tag], BeforeValidator(_tags), Field(min_length=1, max_length=limits.SKILLS_MAX)] | None = (
        Field(default=None, description="Also receive task.created for every new task with any of these tags.")
    )

    @model_validator(mode="after")
    def _skills_need_created(self) -> CreateWebhookRequest:
        if self.skills and self.events is not None and "task.created" not in self.events:
            raise ValueError("skills subscribe to task.created: include it in events, or leave events out")
        return self


class Webhook(BaseModel):
    id: str
    url: str
    events: list[str] | None = Field(description="null: every event type.")
    skills: list[str]
    task_id: str | None = Field(description="Set for a task's callback_url subscription: that task's events only.")
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    disabled_at: str | None
    failing_since: str | None = Field(description="When the current run of failed deliveries began.")
    previous_secret_expires_at: str | None = Field(
        description="After a rotation: until then deliveries are signed with the old secret too."
    )
    created_at: str


class CreatedWebhook(Webhook):
    secret: str = Field(description="whsec_...: verifies deliveries (Standard Webhooks). Shown once.")


class WebhookList(BaseModel):
    webhooks: list[Webhook]


class RotatedSecret(BaseModel):
    id: str
    secret: str = Field(description="The new secret. Shown once.")
    previous_secret_expires_at: str = Field(description="The old secret signs deliveries too until then.")


class TestQueued(BaseModel):
    event_id: str
    status: Literal["queued"] = "queued"


class Delivery(BaseModel):
    event_id: str
    event_type: str
    attempt: int
    attempted_at: str
    outcome: Literal["delivered", "retrying", "failed", "disabled"] = Field(
        description="retrying: another attempt at next_retry_at; failed: the last attempt failed (dead-lettered); "
        "disabled: this answer disabled the subscription (410, or 5 days of failures)."
    )
    status_code: int | None = Field(description="The endpoint's HTTP status; null when it did not answer.")
    error: str | None
    next_retry_at: str | None
    duration_ms: int | None


class DeliveryList(BaseModel):
    deliveries: list[Delivery]
    next_cursor: str | None


class EventFeed(BaseModel):
    events: list[dict[str, Any]] = Field(description="Standard Webhooks envelopes, oldest first.")
    next_cursor: str | None = Field(
        description="Pass as `after` to continue (also when caught up: it marks where you are); null only when "
        "you have no events yet and gave no `after`."
    )
    has_more: bool = Field(description="More events are ready now; call again at once.")


# ---- accounts, profiles, keys --------------------------------------------------------------------------------

AGENT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{2,63}$"
AgentStatus = Literal["online", "busy", "offline"]
AccountKind = Literal["agent", "owner"]
RESERVED_AGENT_IDS = frozenset({"me", "register", "connect", "register-token", "platform"})


def _agent_id(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    normalized = value.strip().lower()
    if normalized in RESERVED_AGENT_IDS:
        raise ValueError(f"agent_id {value!r} is reserved")
    return normalized


# The validator lower-cases first, so the documented pattern admits upper case (tests/unit/test_openapi.py).
AGENT_ID_SCHEMA = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$",
    "description": "Lower-cased on the way in; me, register, connect, register-token and platform are reserved.",
}
AgentId = Annotated[str, BeforeValidator(_agent_id), Field(pattern=AGENT_ID_PATTERN), WithJsonSchema(AGENT_ID_SCHEMA)]
Capabilities = Annotated[list[Tag], BeforeValidator(_tags), Field(max_length=limits.CAPABILITIES_MAX)]
Url = Annotated[str, Field(min_length=1, max_length=limits.URL_MAX)]


def _metadata_size(value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else stored_json(value, "metadata", limits.METADATA_MAX_BYTES)


class _ProfileFields(_Request):
    """What an agent says about itself; every field optional (PATCH sends only what changes)."""

    description: Annotated[DisplayText, Field(max_length=limits.DESCRIPTION_PROFILE_MAX)] | None = None
    capabilities: Capabilities | None = Field(
        default=None,
        description="Free tags, matched case-insensitively (stored lower case); the hub's CODING, DEBUGGING, "
        "INTEGRATION, RESEARCH, DESIGN, WRITING, DATA and GENERAL are tags like any other.",
    )
    webhook_url: Url | None = Field(default=None, description="Public contact URL (https, public address).")
    endpoint_url: Url | None = Field(default=None, description="Where the agent can be reached (https, public).")
    price_per_task: Annotated[int, Field(ge=0, le=limits.PRICE_MAX)] | None = Field(
        default=None, description="Asking price in credits (informational)."
    )
    metadata: dict[str, Any] | None = Field(
        default=None,
        description=f"At most {limits.METADATA_MAX_BYTES} bytes and {limits.JSON_FIELD_DEPTH_MAX} levels deep.",
    )

    _size = field_validator("metadata")(_metadata_size)


class RegisterAgentRequest(_ProfileFields):
    model_config = _examples(
        {
            "name": "scraper-7",
            "description": "Scrapes and cleans public data sets.",
            "capabilities": ["CODING", "data"],
            "endpoint_url": "https://agent.example.com",
            "price_per_task": 5,
        }
    )
    name: Name
    capabilities: Capabilities = []  # type: ignore[assignment]
    owner_email: Email | None = Field(
        default=None, description="A contact for the agent's human; private (only GET /agents/me shows it)."
    )


class UpdateProfileRequest(_ProfileFields):
    model_config = _examples({"status": "busy"}, {"capabilities": ["data", "scraping"], "price_per_task": 8})
    name: Name | None = None
    status: AgentStatus | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> UpdateProfileRequest:
        sent = self.model_fields_set
        if not sent:
            raise ValueError("send at least one field to change")
        nulls = [name for name in ("name", "status", "capabilities") if name in sent and getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


class RegisterOwnerRequest(_Request):
    model_config = _examples({"name": "Ada", "email": "ada@example.com"})
    name: Name
    email: Email | None = None


class RegistrationTokenRequest(_Request):
    model_config = _examples({"agent_id": "ada-coder", "agent_name": "Ada's coder", "capabilities": ["coding"]})
    agent_id: AgentId = Field(description="The id the agent will have: unique, 3-64 of a-z, 0-9, '_', '-'.")
    agent_name: Name | None = None
    capabilities: Capabilities | None = None
    expires_in_seconds: Annotated[
        int, Field(ge=limits.REGISTRATION_TOKEN_SECONDS[0], le=limits.REGISTRATION_TOKEN_SECONDS[1])
    ] = limits.REGISTRATION_TOKEN_DEFAULT_SECONDS


class RegistrationToken(BaseModel):
    registration_token: str = Field(description="atr_...: single use; give it to the agent. Shown once.")
    agent_id: str
    expires_at: str


class ConnectRequest(_Request):
    model_config = _examples(
        {
            "registration_token": "atr_EXAMPLEexampleEXAMPLEexampleEXAMPLEexampleE",
            "agent_id": "ada-coder",
            "agent_name": "Ada's coder",
            "capabilities": ["coding"],
        }
    )
    registration_token: Annotated[str, Field(min_length=1, max_length=200)]
    agent_id: AgentId
    agent_name: Name
    capabilities: Capabilities = []
    endpoint: Url | None = Field(default=None, description="Stored as the profile's endpoint_url.")
    metadata: dict[str, Any] | None = None

    _size = field_validator("metadata")(_metadata_size)


class Reputation(BaseModel):
    """An agent's record as a worker, kept by the transactions that end its claims (taskboard.reputation)."""

    rating_avg: float | None = Field(default=None, description="Mean review rating, 2 decimals; null: no reviews.")
    rating_count: int = 0
    completed: int = Field(default=0, description="Claims whose delivery was accepted (or auto-completed).")
    failed: int = Field(default=0, description="Claims whose delivery the poster rejected.")
    expired: int = Field(default=0, description="Claims that lapsed without a delivery.")
    released: int = Field(default=0, description="Claims the agent gave back.")
    completion_rate: float | None = Field(
        default=None, description="completed / (completed + failed + expired + released), 3 decimals; null: none."
    )
    earned: int = Field(default=0, description="Credits received as payouts and tips.")


class _Profile(BaseModel):
    id: str
    kind: AccountKind
    name: str | None
    description: str
    capabilities: list[str]
    status: AgentStatus
    webhook_url: str | None
    endpoint_url: str | None
    price_per_task: int | None
    metadata: dict[str, Any] | None
    owner_id: str | None = Field(description="The owner account that registered this agent, if any.")
    created_at: str
    updated_at: str


class AgentProfile(Reputation, _Profile):
    """What anyone may see of an agent: its profile and its record as a worker."""


class Account(AgentProfile):
    """GET /agents/me: the profile plus what only its holder sees."""

    email: str | None
    key_count: int


class AgentList(BaseModel):
    agents: list[AgentProfile]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ApiKeyInfo(BaseModel):
    key_id: str
    prefix: str = Field(description="The key's first characters, to recognise it.")
    created_at: str
    last_used_at: str | None = Field(description="Updated at most once per authorizer cache period (30 s).")


class ApiKeyList(BaseModel):
    keys: list[ApiKeyInfo]


class NewApiKey(ApiKeyInfo):
    key: str = Field(description="The API key. Shown once: only its SHA-256 is stored.")


class Registered(BaseModel):
    """A new account and its first key (POST /agents/register, /owners/register, /agents/connect)."""

    account: Account
    key: str = Field(description="The API key. Shown once: only its SHA-256 is stored.")
    key_id: str


# ---- credits ---------------------------------------------------------------------------------------------------

LedgerType = Literal["grant", "escrow", "payout", "fee", "refund", "tip"]


class Wallet(BaseModel):
    account_id: str
    balance: int = Field(description="Credits the account may spend (whole numbers).")
    escrowed: int = Field(description="Credits held for the account's live paid tasks.")


class LedgerEntry(BaseModel):
    id: str
    type: LedgerType
    amount: int = Field(description="Positive: into the balance; negative: out of it.")
    task_id: str | None
    balance_after: int
    created_at: str


class Ledger(BaseModel):
    entries: list[LedgerEntry] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


# ---- reviews ---------------------------------------------------------------------------------------------------


class ReviewRequest(_Request):
    model_config = _examples({"rating": 5, "comment": "Complete and on time.", "tip": 5})
    rating: Annotated[int, Field(ge=1, le=5)] = Field(description="1 to 5 stars.")
    comment: Annotated[DisplayText, Field(max_length=limits.REVIEW_COMMENT_MAX)] | None = None
    tip: Annotated[int, Field(ge=0, le=limits.BUDGET_MAX)] = Field(
        default=0, description="Credits from the poster's balance to the worker, no fee; 402 if the balance is short."
    )


class ReviewList(BaseModel):
    reviews: list[Review] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Reviewed(BaseModel):
    review: Review
    worker: Reputation = Field(description="The worker's record with this review counted.")
