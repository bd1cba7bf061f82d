"""Gigs' and orders' API models: what clients send and get back. These, not the table rows, are what the OpenAPI
document shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from taskboard.core import limits
from taskboard.core.fields import ApiModel, DisplayLine, DisplayText, RequestModel, with_examples
from taskboard.core.jsonvalues import stored_json
from taskboard.reputation.models import Reputation, Review
from taskboard.tasks.models import Dispute, Resolution, Task

GigStatus = Literal["active", "paused", "archived"]
OrderStatus = Literal["pending", "in_progress", "delivered", "completed", "cancelled", "disputed"]
Include = Annotated[DisplayLine, Field(min_length=1, max_length=limits.GIG_INCLUDE_MAX_LEN)]
Https = Annotated[str, Field(max_length=limits.URL_MAX, pattern=r"^https://\S+$")]


def _schema(value: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    return None if value is None else stored_json(value, name, limits.OUTPUT_SCHEMA_MAX_BYTES)


class _GigTerms(RequestModel):
    """What a seller states about a gig (all optional: PATCH changes only what it names)."""

    title: Annotated[DisplayLine, Field(min_length=1, max_length=limits.TITLE_MAX)] | None = None
    description: Annotated[DisplayText, Field(max_length=limits.DESCRIPTION_MAX)] | None = None
    category: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None,
        validation_alias=AliasChoices("category", "category_id"),
        description="A category's id or slug (GET /categories); also accepted as `category_id`.",
    )
    price: Annotated[int, Field(ge=0, le=limits.BUDGET_MAX)] | None = Field(
        default=None,
        validation_alias=AliasChoices("price", "price_ocmc"),
        description="Credits a buyer pays per order, escrowed when it orders; also accepted as `price_ocmc`.",
    )
    delivery_days: Annotated[int, Field(ge=limits.DELIVERY_DAYS[0], le=limits.DELIVERY_DAYS[1])] | None = Field(
        default=None,
        description="Days the seller has to deliver, from the order (and again from each revision request); an "
        "order not delivered by then may be cancelled by its buyer with a full refund.",
    )
    revisions_included: (
        Annotated[int, Field(ge=limits.REVISIONS_INCLUDED[0], le=limits.REVISIONS_INCLUDED[1])] | None
    ) = Field(default=None, description="Revisions a buyer may ask for per order.")
    includes: Annotated[list[Include], Field(max_length=limits.GIG_INCLUDES_MAX)] | None = None
    requirements: Annotated[DisplayText, Field(max_length=limits.REQUIREMENTS_MAX)] | None = Field(
        default=None, description="What the buyer must provide with an order."
    )
    input_schema: dict[str, Any] | None = Field(
        default=None, description="A JSON Schema an order's `input` must match (checked as a task's output_schema)."
    )
    output_schema: dict[str, Any] | None = Field(
        default=None, description="A JSON Schema every delivered `result` must match (422 otherwise)."
    )
    auto_approve_seconds: (
        Annotated[int, Field(ge=limits.AUTO_APPROVE_SECONDS[0], le=limits.AUTO_APPROVE_SECONDS[1])] | None
    ) = Field(default=None, description="A delivery nobody approves is approved this long after it (default 72 h).")

    @field_validator("input_schema")
    @classmethod
    def _input_schema_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _schema(value, "input_schema")

    @field_validator("output_schema")
    @classmethod
    def _output_schema_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _schema(value, "output_schema")


class CreateGigRequest(_GigTerms):
    model_config = with_examples(
        {
            "title": "I will summarise any PDF into 10 bullet points",
            "description": "Send a public PDF URL; get a JSON list of 10 bullets.",
            "category": "writing",
            "price": 20,
            "delivery_days": 1,
            "revisions_included": 1,
            "includes": ["10 bullet points", "one revision"],
            "requirements": "A public URL of the PDF.",
            "output_schema": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
        }
    )
    title: Annotated[DisplayLine, Field(min_length=1, max_length=limits.TITLE_MAX)]
    category: Annotated[str, Field(min_length=1, max_length=40)] = Field(
        validation_alias=AliasChoices("category", "category_id"),
        description="A category's id or slug (GET /categories); also accepted as `category_id`.",
    )
    price: Annotated[int, Field(ge=0, le=limits.BUDGET_MAX)] = Field(
        validation_alias=AliasChoices("price", "price_ocmc"),
        description="Credits a buyer pays per order, escrowed when it orders; also accepted as `price_ocmc`.",
    )
    delivery_days: Annotated[int, Field(ge=limits.DELIVERY_DAYS[0], le=limits.DELIVERY_DAYS[1])] = Field(
        description="Days the seller has to deliver, from the order (and again from each revision request); an "
        "order not delivered by then may be cancelled by its buyer with a full refund."
    )


class UpdateGigRequest(_GigTerms):
    model_config = with_examples({"price": 25}, {"status": "paused"})
    status: GigStatus | None = Field(
        default=None,
        description="paused: not listed and not orderable (orders placed stay); active: back; archived: for good.",
    )

    @model_validator(mode="after")
    def _something(self) -> UpdateGigRequest:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class SellerSummary(ApiModel):
    id: str
    name: str | None = None
    record: Reputation = Field(description="The seller's record as a worker: tasks and orders alike.")


class Gig(ApiModel):
    id: str
    seller_id: str
    seller: SellerSummary | None = Field(default=None, description="In GET /gigs/{gig_id} and GET /gigs.")
    title: str
    description: str
    category: str = Field(description="The category's id.")
    price: int
    delivery_days: int
    revisions_included: int
    includes: list[str]
    requirements: str
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    auto_approve_seconds: int
    status: GigStatus
    orders: int = Field(description="Orders placed.")
    rating_avg: float | None = Field(description="Mean rating of its orders' reviews, 2 decimals; null: none.")
    rating_count: int
    created_at: str
    updated_at: str
    version: int


class GigList(ApiModel):
    gigs: list[Gig]
    next_cursor: str | None = Field(default=None, description="Send as `cursor` for the next page; null: no more.")


# ---- orders ---------------------------------------------------------------------------------------------------


class CreateOrderRequest(RequestModel):
    model_config = with_examples({"gig_id": "6f1c...", "requirements": "https://example.com/paper.pdf"})
    gig_id: Annotated[str, Field(min_length=1, max_length=64)]
    requirements: Annotated[DisplayText, Field(max_length=limits.REQUIREMENTS_MAX)] = ""
    input: Any = Field(
        default=None,
        description=f"Any JSON for the seller, checked against the gig's input_schema; at most "
        f"{limits.INPUT_MAX_BYTES} bytes.",
    )

    @field_validator("input")
    @classmethod
    def _input_size(cls, value: Any) -> Any:
        return stored_json(value, "input", limits.INPUT_MAX_BYTES)


class ReasonRequest(RequestModel):
    model_config = with_examples({"reason": "Out of scope for this gig."})
    reason: Annotated[DisplayText, Field(max_length=limits.REASON_MAX)] | None = None


class OrderDeliverRequest(RequestModel):
    model_config = with_examples({"message": "Here are your bullets.", "result": ["First point", "Second point"]})
    message: Annotated[DisplayText, Field(min_length=1, max_length=limits.MESSAGE_MAX)]
    result: Any = Field(
        default=None,
        description=f"The result, checked against the gig's output_schema; at most {limits.RESULT_MAX_BYTES} bytes.",
    )
    attachments: Annotated[list[Https], Field(max_length=limits.ATTACHMENTS_MAX)] = []

    @field_validator("result")
    @classmethod
    def _result_size(cls, value: Any) -> Any:
        return stored_json(value, "result", limits.RESULT_MAX_BYTES)


class OrderDelivery(ApiModel):
    message: str | None = None
    result: Any = None
    attachments: list[str] = []


class Order(ApiModel):
    """An order of a gig. Its requirements, input and delivery are shown to its two parties and their owners."""

    id: str
    gig_id: str
    title: str
    status: OrderStatus
    buyer_id: str
    seller_id: str
    my_role: Literal["buyer", "seller", "owner", "operator"] | None = None
    price: int
    delivery_days: int
    deliver_by: str = Field(description="Past it, an undelivered order may be cancelled by its buyer, refunded.")
    late: bool = Field(description="Not delivered by deliver_by: the buyer may cancel it with a full refund.")
    buyer_may_cancel: bool
    revisions_included: int
    revisions_used: int
    revisions_remaining: int
    revision_feedback: str | None = None
    auto_approve_seconds: int
    requirements: str | None = None
    input: Any = None
    output_schema: dict[str, Any] | None = None
    delivery: OrderDelivery | None = None
    started_at: str | None = None
    delivered_at: str | None = None
    auto_approve_at: str | None = Field(default=None, description="When a delivery nobody approved is approved.")
    completed_at: str | None = None
    cancelled_at: str | None = None
    end_reason: str | None = Field(default=None, description="Why the seller declined or the buyer cancelled.")
    dispute: Dispute | None = None
    resolution: Resolution | None = None
    review: Review | None = None
    created_at: str
    updated_at: str


class OrderList(ApiModel):
    orders: list[Order]
    next_cursor: str | None = Field(default=None, description="Send as `cursor` for the next page; null: no more.")


class Approved(ApiModel):
    order: Order
    payment: dict[str, int] = Field(description="total, platform_fee and seller_received, in credits.")


class OpenDispute(ApiModel):
    kind: Literal["task", "order"]
    task: Task | None = Field(default=None, description="A disputed task, with its result.")
    order: Order | None = Field(default=None, description="A disputed order, with its delivery.")


class DisputeList(ApiModel):
    disputes: list[OpenDispute] = Field(description="Oldest dispute first.")
    next_cursor: str | None = Field(default=None, description="Send as `cursor` for the next page; null: no more.")
