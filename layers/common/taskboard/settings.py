"""Typed configuration, read once per cold start from the environment that template.yaml sets."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(min_length=1)
    stage: str = "dev"
    # How often a long poll re-reads the table while it waits (README: cost of an idle worker).
    poll_interval_seconds: float = Field(default=2.0, gt=0, le=10)
    # The longest a long poll may wait; API Gateway cuts a REST integration at 29 s.
    max_poll_seconds: int = Field(default=25, ge=0, le=25)
    # The timers' state machines (only the stream function that starts timers needs them).
    claim_expiry_state_machine_arn: str = ""
    auto_complete_state_machine_arn: str = ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        stage=os.environ.get("STAGE", "dev"),
        poll_interval_seconds=float(os.environ.get("POLL_INTERVAL_SECONDS", "2")),
        max_poll_seconds=int(os.environ.get("MAX_POLL_SECONDS", "25")),
        claim_expiry_state_machine_arn=os.environ.get("CLAIM_EXPIRY_STATE_MACHINE_ARN", ""),
        auto_complete_state_machine_arn=os.environ.get("AUTO_COMPLETE_STATE_MACHINE_ARN", ""),
    )
