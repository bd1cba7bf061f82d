"""The sliding-window arithmetic of the rate limiter (taskboard.http.ratelimit.judge), without DynamoDB."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskboard.http.ratelimit import Limit, judge

MINUTE = Limit("api", 60, 60)


def test_the_limit_is_allowed_and_one_more_is_not() -> None:
    assert judge(MINUTE, previous=0, current=60, elapsed=30).allowed
    refused = judge(MINUTE, previous=0, current=61, elapsed=30)
    assert not refused.allowed and refused.remaining == 0


def test_a_burst_straddling_the_window_edge_is_still_limited() -> None:
    # 30 requests at the end of one minute and 31 at the start of the next are 61 within 60 s
    assert not judge(MINUTE, previous=30, current=31, elapsed=0.5).allowed
    # but the previous window's weight fades as the current one goes on
    assert judge(MINUTE, previous=30, current=31, elapsed=45).allowed


def test_headers_say_the_limit_what_is_left_and_when_it_resets() -> None:
    verdict = judge(MINUTE, previous=0, current=10, elapsed=20.2)
    assert verdict.headers() == {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "50", "X-RateLimit-Reset": "40"}
    refused = judge(MINUTE, previous=0, current=61, elapsed=20)
    assert "Retry-After" in refused.headers()


@pytest.mark.parametrize(
    ("previous", "current", "elapsed"), [(0, 61, 10), (0, 61, 59.5), (60, 1, 0.1), (60, 30, 20), (100, 70, 5)]
)
def test_retry_after_is_long_enough_and_not_much_longer(previous: int, current: int, elapsed: float) -> None:
    refused = judge(MINUTE, previous, current, elapsed)
    assert not refused.allowed
    wait = refused.retry_after

    def allowed_after(seconds: float) -> bool:
        later = elapsed + seconds
        if later < 60:
            return judge(MINUTE, previous, current + 1, later).allowed
        return judge(MINUTE, current, 1, later - 60).allowed

    assert allowed_after(wait)  # a client that waits Retry-After gets through
    assert wait == 1 or not allowed_after(wait - 1.5)  # and would not have much sooner


@given(
    limit=st.integers(min_value=1, max_value=200),
    previous=st.integers(min_value=0, max_value=400),
    current=st.integers(min_value=1, max_value=400),
    elapsed=st.floats(min_value=0, max_value=59.999),
)
def test_reset_and_retry_after_agree_whenever_nothing_is_left(
    limit: int, previous: int, current: int, elapsed: float
) -> None:
    verdict = judge(Limit("api", limit, 60), previous, current, elapsed)
    headers = verdict.headers()
    if not verdict.allowed:
        # one answer, one time to come back: the two headers never disagree
        assert headers["Retry-After"] == headers["X-RateLimit-Reset"]
    if verdict.remaining == 0:
        assert headers["X-RateLimit-Reset"] == str(verdict.retry_after)
    else:
        assert "Retry-After" not in headers and 1 <= int(headers["X-RateLimit-Reset"]) <= 60
