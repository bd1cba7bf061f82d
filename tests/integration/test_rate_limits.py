"""Per-key rate limits: one counter in DynamoDB shared by every caller thread, the headers, 429 + Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.stack import Stack
from tests.conftest import TEST_ENVIRONMENT
from tests.support import Api

LIMITS = {"RATE_LIMIT_PER_MINUTE": "20", "POLL_RATE_LIMIT_PER_MINUTE": "30", "SIGNUP_LIMIT_PER_HOUR": "4"}


@pytest.fixture
def limited() -> Iterator[Api]:
    with Stack(environment=TEST_ENVIRONMENT | LIMITS) as stack:
        yield Api(stack)


def test_the_limit_holds_across_many_concurrent_callers(limited: Api) -> None:
    agent = limited.new_agent(name="hammer")
    other = limited.new_agent(name="bystander")

    def call(_: int) -> tuple[int, dict[str, str]]:
        response = limited.get("/tasks", key=agent.key)
        return response.status, response.headers

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(call, range(48)))
    statuses = [status for status, _ in results]
    # every request was counted exactly once: 20 got through (a minute boundary in the burst may let 1-2 more)
    assert 20 <= statuses.count(200) <= 22 and statuses.count(429) == 48 - statuses.count(200)
    for status, headers in results:
        assert headers["X-RateLimit-Limit"] == "20" and int(headers["X-RateLimit-Reset"]) >= 1
        if status == 429:  # one time to come back, said twice
            assert int(headers["Retry-After"]) >= 1 and headers["X-RateLimit-Remaining"] == "0"
            assert headers["X-RateLimit-Reset"] == headers["Retry-After"]
        elif headers["X-RateLimit-Remaining"] != "0":
            assert int(headers["X-RateLimit-Reset"]) in range(1, 61)  # the current window's end
    refused = limited.get("/tasks", key=agent.key)
    assert refused.status == 429 and refused.json()["code"] == "rate_limited" and "Retry-After" in refused.headers
    # another key has its own counter
    assert limited.get("/tasks", key=other.key).status == 200


def test_long_polls_have_their_own_higher_limit(limited: Api) -> None:
    agent = limited.new_agent(name="poller")
    polls = [limited.get("/tasks/next", key=agent.key, query="timeout=0") for _ in range(31)]
    assert [p.status for p in polls].count(200) == 30 and polls[-1].status == 429
    assert polls[0].headers["X-RateLimit-Limit"] == "30"
    assert limited.get("/tasks", key=agent.key).status == 200  # the other counter is untouched


def test_sign_ups_are_limited_per_source_ip(limited: Api) -> None:
    made = [limited.stack.invoke("POST", "/keys", body='{"name": "x"}', source_ip="198.51.100.7") for _ in range(4)]
    assert [response.status for response in made] == [201] * 4
    for path, body in (("/keys", "{}"), ("/agents/register", '{"name": "x"}'), ("/owners/register", '{"name": "x"}')):
        refused = limited.stack.invoke("POST", path, body=body, source_ip="198.51.100.7")
        assert refused.status == 429 and int(refused.headers["Retry-After"]) > 60, path
    assert limited.stack.invoke("POST", "/keys", body="{}", source_ip="198.51.100.8").status == 201


def test_anonymous_callers_are_limited_per_source_ip(limited: Api) -> None:
    statuses = [limited.stack.invoke("GET", "/tasks", source_ip="203.0.113.5").status for _ in range(21)]
    assert statuses.count(200) == 20 and statuses[-1] == 429
    assert limited.stack.invoke("GET", "/tasks", source_ip="203.0.113.6").status == 200


def test_a_rate_limiter_outage_lets_requests_through(limited: Api) -> None:
    import boto3

    poster = limited.new_agent(name="poster")
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName="RateLimitTable")
    response = limited.get("/tasks", key=poster.key)
    assert response.status == 200 and "X-RateLimit-Limit" not in response.headers
