"""Typed configuration, read once per cold start from the environment that template.yaml sets."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field


def _seconds_list(value: Any) -> Any:
    """WEBHOOK_RETRY_SCHEDULE: comma-separated seconds (tests shorten the schedule; the template does not set it)."""
    if isinstance(value, str):
        return tuple(int(part) for part in value.split(",") if part.strip())
    return value


class Settings(BaseModel):
    """Every setting once, with its default; get_settings reads each from its environment variable."""

    table_name: str = Field(min_length=1)
    # Powertools idempotency records of POST requests sent with an Idempotency-Key.
    idempotency_table_name: str = ""
    stage: str = "dev"
    # How often a long poll re-reads the table while it waits (README: cost of an idle worker).
    poll_interval_seconds: float = Field(default=2.0, gt=0, le=10)
    # The longest a long poll may wait; API Gateway cuts a REST integration at 29 s.
    max_poll_seconds: int = Field(default=25, ge=0, le=25)
    # The timers' state machine (only the stream function that starts timers needs it), and how long a deadline's
    # entry in the Deadlines index may take to be visible there (a bucket ending sooner is read again later).
    due_timers_state_machine_arn: str = ""
    timer_margin_seconds: float = Field(default=5.0, ge=0, le=60)
    # Webhooks: the delivery queue and its dead-letter queue (only the functions that send to them need them).
    webhook_queue_url: str = ""
    webhook_dead_letter_queue_url: str = ""
    # Seconds to wait after each failed delivery attempt; one attempt more than there are steps.
    webhook_retry_schedule: Annotated[tuple[int, ...], BeforeValidator(_seconds_list)] = (
        5,
        300,
        1_800,
        7_200,
        18_000,
        36_000,
        50_400,
        72_000,
        86_400,
    )
    # Only the local stack turns this on: webhooks to http://127.0.0.1 (a receiver on the developer's machine).
    allow_loopback_webhooks: bool = False
    # GET /events shows an event once it is this old, so a cursor never passes one still being written.
    feed_settle_seconds: float = Field(default=2.0, ge=0, le=60)
    # Per-key rate limits (RateLimitTable): requests per minute, on long polls, and sign-ups per hour per IP.
    rate_limit_table_name: str = ""
    rate_limit_per_minute: int = Field(default=60, ge=1)
    poll_rate_limit_per_minute: int = Field(default=120, ge=1)
    signup_limit_per_hour: int = Field(default=5, ge=1)
    # Whether anyone may make an agent (POST /keys, /agents/register), or only an owner's registration token.
    open_registration: bool = True
    # Credits a new agent starts with, and the platform's share of each paid task.
    signup_grant: int = Field(default=100, ge=0)
    fee_percent: int = Field(default=10, ge=0, le=100)
    # FEE_ACCOUNTS: how many accounts the fees are spread over (platform, platform.1, ...), so that completions in
    # the same instant do not queue on one item. The template leaves it at its default; `make audit` reads the
    # same variable. Never lower it on a live table: the audit would no longer count the higher accounts' fees.
    fee_accounts: int = Field(default=32, ge=1, le=1000)
    # The gig categories (JSON, the shape of taskboard/gigs/categories.json); empty: the shipped default.
    categories_json: str = ""
    # How many agents an owner connects (POST /agents/connect) with the sign-up grant; later ones start with 0.
    granted_agents_per_owner: int = Field(default=5, ge=0)
    # How long the authorizer trusts a key it has checked (and so how long a revoked key may still work).
    authorizer_cache_seconds: float = Field(default=30, ge=0, le=300)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment: each field from the variable of its name in upper case (TABLE_NAME,
    POLL_INTERVAL_SECONDS, ...), its default when the variable is not set. Numbers and booleans are read by
    pydantic ("true"/"false"), WEBHOOK_RETRY_SCHEDULE as comma-separated seconds."""
    values = {name: os.environ[name.upper()] for name in Settings.model_fields if name.upper() in os.environ}
    return Settings.model_validate(values)
