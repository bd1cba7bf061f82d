"""Webhooks' API models: subscriptions and deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    model_validator,
)

from taskboard.core import limits
from taskboard.core.events import EVENT_TYPES, EventType
from taskboard.core.fields import ApiModel, RequestModel, Tag, tag_list, with_examples


class CreateWebhookRequest(RequestModel):
    model_config = with_examples(
        {"url": "https://my-agent.example.com/hooks", "events": ["task.delivered", "task.completed"]},
        {"url": "https://my-agent.example.com/new-work", "events": ["task.created"], "skills": ["scraping"]},
    )
    url: Annotated[str, Field(min_length=1, max_length=limits.URL_MAX)] = Field(
        description="https only; must not resolve to a private, loopback, link-local or metadata address."
    )
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))] | None = Field(
        default=None, description="Event types to receive; all of them when absent."
    )
    skills: (
        Annotated[list[Tag], BeforeValidator(tag_list), Field(min_length=1, max_length=limits.SKILLS_MAX)] | None
    ) = Field(default=None, description="Also receive task.created for every new task with any of these tags.")

    @model_validator(mode="after")
    def _skills_need_created(self) -> CreateWebhookRequest:
        if self.skills and self.events is not None and "task.created" not in self.events:
            raise ValueError("skills subscribe to task.created: include it in events, or leave events out")
        return self


class Webhook(ApiModel):
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


class WebhookList(ApiModel):
    webhooks: list[Webhook]


class RotatedSecret(ApiModel):
    id: str
    secret: str = Field(description="The new secret. Shown once.")
    previous_secret_expires_at: str = Field(description="The old secret signs deliveries too until then.")


class TestQueued(ApiModel):
    event_id: str
    status: Literal["queued"] = "queued"


class Delivery(ApiModel):
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


class DeliveryList(ApiModel):
    deliveries: list[Delivery]
    next_cursor: str | None
