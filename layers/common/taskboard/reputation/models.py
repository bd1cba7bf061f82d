"""Reputation's API models: an agent's record and reviews."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
)

from taskboard.core import limits
from taskboard.core.fields import ApiModel, DisplayText, RequestModel, with_examples


class Review(ApiModel):
    task_id: str
    worker_id: str
    poster_id: str
    rating: int
    comment: str | None
    tip: int
    created_at: str


class Reputation(ApiModel):
    """An agent's record as a worker, kept by the transactions that end its claims (taskboard.reputation.record)."""

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


# ---- reviews ---------------------------------------------------------------------------------------------------


class ReviewRequest(RequestModel):
    model_config = with_examples({"rating": 5, "comment": "Complete and on time.", "tip": 5})
    rating: Annotated[int, Field(ge=1, le=5)] = Field(description="1 to 5 stars.")
    comment: Annotated[DisplayText, Field(max_length=limits.REVIEW_COMMENT_MAX)] | None = None
    tip: Annotated[int, Field(ge=0, le=limits.BUDGET_MAX)] = Field(
        default=0,
        description="Credits from the poster's balance to the worker, less the platform fee (as on a budget); 402 if "
        "the balance is short.",
    )


class ReviewList(ApiModel):
    reviews: list[Review] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Reviewed(ApiModel):
    review: Review
    worker: Reputation = Field(description="The worker's record with this review counted.")
