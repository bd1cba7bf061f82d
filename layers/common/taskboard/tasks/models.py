"""Tasks' API models: what clients send and get back about tasks. These, not the table rows, are what the OpenAPI
document shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from taskboard.core import limits
from taskboard.core.fields import (
    ApiModel,
    DisplayLine,
    DisplayText,
    RequestModel,
    Tag,
    normalize_tag,
    tag_list,
    with_examples,
)
from taskboard.core.jsonvalues import stored_json
from taskboard.reputation.models import Review


class CreateTaskRequest(RequestModel):
    model_config = with_examples(
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
    tags: Annotated[list[Tag], BeforeValidator(tag_list), Field(max_length=limits.TAGS_MAX)] = []
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
    revisions_included: Annotated[int, Field(ge=limits.REVISIONS_INCLUDED[0], le=limits.REVISIONS_INCLUDED[1])] = Field(
        default=0,
        description="Deliveries the poster may send back to the same worker with feedback (POST "
        "/tasks/{task_id}/revision) instead of rejecting them.",
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


class ClaimRequest(RequestModel):
    model_config = with_examples({"agent_id": "mybot@example.com"})
    agent_id: Annotated[DisplayLine, Field(min_length=1, max_length=limits.LABEL_MAX)] | None = Field(
        default=None, description="A free label for the worker (AgentDo's agent_id); authorization uses the key."
    )


class WorkerRequest(RequestModel):
    model_config = with_examples({"attempt": 1})
    attempt: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The claim's attempt number; when given, the call is refused for any other attempt."
    )


class DeliverRequest(WorkerRequest):
    model_config = with_examples({"result": [{"zip": "90210", "median_value": 3500000}], "attempt": 1})
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


class RejectRequest(RequestModel):
    model_config = with_examples({"reason": "Half of the zip codes are missing a median value."})
    reason: Annotated[DisplayText, Field(max_length=limits.REASON_MAX)] | None = None


# ---- disputes and revisions (tasks and orders alike) ----


class RequiredReasonRequest(RequestModel):
    model_config = with_examples({"reason": "The delivery ignores the requirements."})
    reason: Annotated[DisplayText, Field(min_length=1, max_length=limits.REASON_MAX)]


class RevisionRequest(RequestModel):
    model_config = with_examples({"feedback": "Bullet 3 repeats bullet 1; cover the methods section instead."})
    feedback: Annotated[DisplayText, Field(min_length=1, max_length=limits.REASON_MAX)]


class ResolveRequest(RequestModel):
    model_config = with_examples(
        {"outcome": "split", "buyer_amount": 10, "seller_amount": 10, "note": "Half the bullets were usable."}
    )
    outcome: Literal["refund", "pay", "split"] = Field(
        description="refund: the whole escrow back to the buyer; pay: the seller paid (minus the fee); split: "
        "buyer_amount back to the buyer and seller_amount paid to the seller (minus the fee on it)."
    )
    buyer_amount: Annotated[int, Field(ge=0, le=limits.BUDGET_MAX)] | None = None
    seller_amount: Annotated[int, Field(ge=0, le=limits.BUDGET_MAX)] | None = None
    note: Annotated[DisplayText, Field(min_length=1, max_length=limits.REASON_MAX)] = Field(
        description="Why: both parties see it."
    )

    @model_validator(mode="after")
    def _amounts(self) -> ResolveRequest:
        given = (self.buyer_amount is not None, self.seller_amount is not None)
        if self.outcome == "split" and given != (True, True):
            raise ValueError("a split names buyer_amount and seller_amount (they sum to the escrow)")
        if self.outcome != "split" and any(given):
            raise ValueError("only a split names amounts")
        return self


class Dispute(ApiModel):
    opened_by: str
    reason: str
    opened_at: str
    status_before: str


class Resolution(ApiModel):
    outcome: Literal["refund", "pay", "split"]
    buyer_amount: int
    seller_amount: int = Field(description="Before the platform's fee.")
    note: str
    resolved_by: str
    resolved_at: str


TaskStatus = Literal["open", "claimed", "delivered", "completed", "failed", "cancelled", "disputed"]


class Task(ApiModel):
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
    revisions_included: int = Field(default=0, description="Revisions the poster may ask of the worker.")
    revisions_used: int = 0
    revision_feedback: str | None = None
    dispute: Dispute | None = Field(default=None, description="Once the poster or the worker disputed it.")
    resolution: Resolution | None = Field(default=None, description="Once the operator settled its dispute.")
    result: Any = Field(default=None, description="Only for the poster and the worker; null for everyone else.")
    result_url: str | None = Field(default=None, description="Only for the poster and the worker.")
    review: Review | None = Field(default=None, description="The poster's review, once the task is completed.")
    created_at: str
    updated_at: str


class CallbackSubscription(ApiModel):
    webhook_id: str = Field(description="cb_<task id>: manage it under /webhooks/{webhook_id}.")
    url: str
    secret: str = Field(description="whsec_...: verifies this task's deliveries. Shown once.")


class CreatedTask(Task):
    callback: CallbackSubscription | None = Field(
        default=None, description="Only when callback_url was given, and only in this response."
    )


class TaskList(ApiModel):
    tasks: list[Task]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class NextTaskResponse(ApiModel):
    task: Task | None
    retry: bool = Field(description="True when nothing was found: call again at once (the server already waited).")
    cursor: str | None = Field(
        default=None,
        description="With retry: pass as `cursor` on the next call, which continues the search where this one "
        "stopped (past tasks you cannot take) instead of starting again at the oldest.",
    )


class ResultResponse(ApiModel):
    status: TaskStatus
    result: Any
    result_url: str | None
    task: Task
    retry: bool = Field(description="True while the task is not yet delivered or finished: call again at once.")


def budget_range(min_budget: int | None, max_budget: int | None) -> tuple[int | None, int | None]:
    """The min_budget/max_budget query parameters as (low, high); 400 when they cross."""
    from taskboard.core.errors import InvalidRequest

    if min_budget is not None and max_budget is not None and min_budget > max_budget:
        raise InvalidRequest("min_budget must not be greater than max_budget.")
    return min_budget, max_budget


def parse_skills(*raw: str | None) -> tuple[str, ...]:
    """Comma-separated skills (or tags) from a query string, normalized like task tags."""
    from taskboard.core.errors import InvalidRequest

    parts = [part for text in raw if text for part in text.split(",") if part.strip()]
    try:
        skills = tuple(dict.fromkeys(normalize_tag(part) for part in parts))
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    if len(skills) > limits.SKILLS_MAX:
        raise InvalidRequest(f"At most {limits.SKILLS_MAX} skills or tags per search.")
    return skills


class EventFeed(ApiModel):
    events: list[dict[str, Any]] = Field(description="Standard Webhooks envelopes, oldest first.")
    next_cursor: str | None = Field(
        description="Pass as `after` to continue (also when caught up: it marks where you are); null only when "
        "you have no events yet and gave no `after`."
    )
    has_more: bool = Field(description="More events are ready now; call again at once.")
