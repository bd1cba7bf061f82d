"""Reviews: a poster's rating of a completed task, stored beside the task and copied into the worker's partition
(ACCOUNT#<worker> / REVIEW#<time>#<task>, newest first there) for its list of reviews."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from taskboard.core import codec, keys
from taskboard.core.aws import TableAccess
from taskboard.core.pagination import encode_cursor
from taskboard.reputation.models import Review, ReviewList

REVIEW_KEY = re.compile(
    r"^REVIEW#\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@dataclass(frozen=True)
class StoredReview:
    worker_id: str
    poster_id: str
    rating: int
    comment: str | None
    tip: int
    created_at: str


def review_puts(table: str, task_id: str, review: StoredReview) -> list[dict[str, Any]]:
    """The transaction items that write a review: once (the task's own REVIEW item must not exist yet)."""
    first, copy = review_items(task_id, review)
    return [
        {"Put": {"TableName": table, "Item": first, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": table, "Item": copy}},
    ]


def review_items(task_id: str, review: StoredReview) -> list[dict[str, Any]]:
    """The review beside its task, and its copy in the worker's partition (newest first there)."""
    values = codec.item(
        task_id=task_id,
        worker_id=review.worker_id,
        poster_id=review.poster_id,
        rating=review.rating,
        comment=review.comment,
        tip=review.tip,
        created_at=review.created_at,
    )
    copy = keys.in_account(review.worker_id, f"REVIEW#{review.created_at}#{task_id}")
    return [{**keys.in_task(task_id, "REVIEW"), **values}, {**copy, **values}]


def review_from_item(item: dict[str, Any]) -> StoredReview:
    return StoredReview(
        worker_id=item["worker_id"]["S"],
        poster_id=item["poster_id"]["S"],
        rating=int(item["rating"]["N"]),
        comment=item.get("comment", {}).get("S"),
        tip=int(item["tip"]["N"]),
        created_at=item["created_at"]["S"],
    )


class Reviews(TableAccess):
    def received(self, worker_id: str, limit: int, before: str | None) -> ReviewList:
        """A page of the reviews a worker received, newest first, older than the sort key `before`."""
        reviews, last = self._received(worker_id, limit, before)
        return ReviewList(reviews=reviews, next_cursor=encode_cursor(last) if last else None)

    def _received(self, worker_id: str, limit: int, before: str | None) -> tuple[list[Review], str | None]:
        """The reviews a worker received (copies in its partition), newest first, older than the key `before`."""
        response = self.db.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=codec.values(
                pk=keys.account_pk(worker_id), low="REVIEW#", high=before or "REVIEW#~"
            ),
            ScanIndexForward=False,
            Limit=limit + 1 + (1 if before else 0),  # as for the ledger: the next page's first, and `before`
        )
        found = [item for item in response["Items"] if item["sk"]["S"] != before]
        items, more = found[:limit], len(found) > limit
        reviews = [Review(task_id=item["task_id"]["S"], **vars(review_from_item(item))) for item in items]
        return reviews, (items[-1]["sk"]["S"] if more and items else None)
