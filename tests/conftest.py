"""Fixtures shared by the integration and end-to-end tests. Unit tests need none of them."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from local.stack import Stack
from tests.support import Agent, Api, FrozenClock

# Long polls in tests re-read every 0.1 s, so a 1 s poll is 10 reads and finishes quickly; a failed webhook
# delivery is tried again after 1 s instead of 5 s, 5 min, 30 min, ... (tests/unit/test_delivery.py checks those).
# Rate limits are far out of reach, except in the tests of rate limits (which set their own).
TEST_ENVIRONMENT = {
    "POLL_INTERVAL_SECONDS": "0.1",
    "WEBHOOK_RETRY_SCHEDULE": "1,1,2",
    "RATE_LIMIT_PER_MINUTE": "1000000",
    "POLL_RATE_LIMIT_PER_MINUTE": "1000000",
    "SIGNUP_LIMIT_PER_HOUR": "1000000",
}


@pytest.fixture(autouse=True)
def strict_secret_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """In tests, an answer about to be kept for idempotency with a secret nobody declared fails loudly (deployed,
    it is withheld and logged): a new secret-bearing field cannot slip into the store unnoticed."""
    from taskboard.http import idempotency

    monkeypatch.setattr(idempotency, "STRICT_SECRET_SCAN", True)


@pytest.fixture
def stack() -> Iterator[Stack]:
    """A fresh moto backend with the template's tables, and the template's handlers."""
    with Stack(environment=TEST_ENVIRONMENT) as started:
        yield started


@pytest.fixture
def api(stack: Stack) -> Api:
    return Api(stack)


@pytest.fixture
def clock(stack: Stack) -> FrozenClock:
    """Puts the board's clock under the test's control (for expiry without waiting)."""
    from taskboard.runtime import board, gigs, order_book

    frozen = FrozenClock()
    board().clock = frozen
    order_book().clock = frozen
    gigs().clock = frozen
    return frozen


@pytest.fixture
def poster(api: Api) -> Agent:
    return api.new_agent(name="poster")


@pytest.fixture
def worker(api: Api) -> Agent:
    return api.new_agent(name="worker")


@pytest.fixture
def other(api: Api) -> Agent:
    return api.new_agent(name="someone else")


@pytest.fixture
def tight_thread_switching() -> Iterator[None]:
    """Switch threads every microsecond instead of every 5 ms while the test runs: requests served by threads of
    this process then interleave between their reads and their writes the way truly parallel requests do, so a
    shared-state race shows up reliably instead of once in a few hundred runs."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
