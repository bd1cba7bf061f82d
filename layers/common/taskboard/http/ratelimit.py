"""Per-key rate limits shared by every Lambda container: an atomic counter in DynamoDB (RateLimitTable).

A sliding-window counter: one item per subject and limit holds a count per window (ADD is atomic, so any number
of concurrent containers count exactly). A request is allowed while

    previous window's count x (share of the current window still ahead) + current window's count <= limit

which smooths the edge of a fixed window: 60 quick requests straddling a minute boundary are still 60 in any
60 s. Every request counts, refused ones too (a client must wait its Retry-After, not hammer). One UpdateItem
per request; if DynamoDB cannot be reached the request is let through (API Gateway's stage throttling stays the
outer guard) and a warning is logged."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from taskboard.core import codec
from taskboard.core.aws import TableAccess


class Limit(NamedTuple):
    name: str  # "api", "poll" or "signup": separate counters
    limit: int
    window_seconds: int


class Verdict(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until a request is allowed again when none remains; else until the current window ends
    retry_after: int  # until the next request would be allowed; only sent when refused

    def headers(self) -> dict[str, str]:
        """X-RateLimit-* always; Retry-After when refused, and then X-RateLimit-Reset says the same."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def judge(limit: Limit, previous: int, current: int, elapsed: float) -> Verdict:
    """The verdict for a request that made the current window's count `current` (pure: tests drive it)."""
    window = limit.window_seconds
    ahead = 1 - elapsed / window
    estimate = previous * ahead + current
    allowed = estimate <= limit.limit
    if current + 1 > limit.limit:
        # even with the previous window gone, this window is full: wait into the next one until its share of
        # this window's count leaves room for one more request
        share = 1 - (limit.limit - 1) / current
        wait = (window - elapsed) + share * window
    elif previous:
        wait = (1 - (limit.limit - current - 1) / previous) * window - elapsed
    else:
        wait = 1
    remaining = max(0, math.floor(limit.limit - estimate))
    retry_after = max(1, math.ceil(wait))
    # With requests left, the limit "resets" as the window ends; with none left, when the next one may go.
    reset = retry_after if remaining == 0 else max(1, math.ceil(window - elapsed))
    return Verdict(
        allowed=allowed, limit=limit.limit, remaining=remaining, reset_seconds=reset, retry_after=retry_after
    )


class RateLimiter(TableAccess):
    def __init__(self, table_name: str, clock: Callable[[], float] = time.time, dynamodb: Any = None) -> None:
        super().__init__(table_name, dynamodb)
        self.clock = clock

    def hit(self, limit: Limit, subject: str) -> Verdict:
        """Count one request of `subject` against `limit`, and say whether it may go ahead."""
        now = self.clock()
        index, elapsed = divmod(now, limit.window_seconds)
        window = int(index)
        response = self.db.update_item(
            TableName=self.table,
            Key=codec.item(pk=f"{limit.name}#{subject}"),
            UpdateExpression="ADD #current :one SET expires_ttl = :ttl REMOVE #stale",
            ExpressionAttributeNames={"#current": f"w{window}", "#stale": f"w{window - 2}"},
            ExpressionAttributeValues=codec.values(one=1, ttl=int(now) + 3 * limit.window_seconds),
            ReturnValues="ALL_NEW",
        )
        counts = response["Attributes"]
        current = int(counts[f"w{window}"]["N"])
        previous = int(counts.get(f"w{window - 1}", {}).get("N", "0"))
        return judge(limit, previous, current, elapsed)
