"""Simultaneous requests over HTTP: every request acts as its own caller, a burst of connections is answered,
and of any number of racing claimers exactly one wins.

Each test gets a stack of its own that starts empty: moto copies the whole table on every transaction, so on a
table that earlier tests filled these tests ran four times slower (the answers were slow, not wrong)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import TEST_ENVIRONMENT
from tests.e2e.conftest import Live, serve
from tests.e2e.test_http import CONCURRENT_TIMEOUT, TIMEOUT, assert_error, auth, post_task, unique_skill
from tests.support import Agent

pytestmark = pytest.mark.e2e


@pytest.fixture
def live() -> Iterator[Live]:
    """A fresh local stack behind HTTP for each test (this module's own `live`, not the shared one)."""
    with serve(dict(TEST_ENVIRONMENT)) as started:
        yield started


CLAIMERS = 16
ROUNDS = 10  # each round is 16 simultaneous claims of a fresh task; 20 rounds cost ~50 s more of CI


def _fire_together(calls: list[Callable[[], requests.Response]]) -> list[requests.Response | Exception]:
    """Run every call at the same moment (a barrier releases them together); outcomes in call order.

    A call that failed at the transport level (connection reset, timeout) gives its exception, so the test
    can say how many of the requests the server never answered."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response | Exception:
        barrier.wait(timeout=TIMEOUT)
        try:
            return call()
        except requests.RequestException as error:
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _answered(outcomes: list[requests.Response | Exception]) -> list[requests.Response]:
    failed = [repr(outcome)[:160] for outcome in outcomes if isinstance(outcome, Exception)]
    assert not failed, f"{len(failed)} of {len(outcomes)} simultaneous requests got no HTTP answer: {failed}"
    return [outcome for outcome in outcomes if isinstance(outcome, requests.Response)]


def test_sixteen_simultaneous_connections_are_all_answered(live: Live) -> None:
    """A burst of parallel clients is queued, not reset: the server must accept more than a handful at once."""
    for _ in range(10):
        outcomes = _fire_together(
            [lambda: requests.post(f"{live.url}/keys", json={}, timeout=TIMEOUT) for _ in range(CLAIMERS)]
        )
        assert [response.status_code for response in _answered(outcomes)] == [201] * CLAIMERS


def test_concurrent_requests_each_act_as_their_own_caller(live: Live, tight_thread_switching: None) -> None:
    agents = [live.new_agent(f"concurrent-{n}") for n in range(4)]  # few enough not to fill the listen backlog
    mixed_up = []
    for round_number in range(20):

        def poster(agent: Agent, n: int = round_number) -> Callable[[], requests.Response]:
            title = f"{agent.id} round {n}"
            return lambda: requests.post(
                f"{live.url}/tasks", json={"title": title}, headers=auth(agent), timeout=CONCURRENT_TIMEOUT
            )

        responses = _answered(_fire_together([poster(agent) for agent in agents]))
        for agent, response in zip(agents, responses, strict=True):
            task = response.json()
            if (
                response.status_code != 201
                or task["poster_id"] != agent.id
                or task["title"] != f"{agent.id} round {round_number}"
            ):
                mixed_up.append(
                    (round_number, agent.id, response.status_code, task.get("poster_id"), task.get("title"))
                )
    assert not mixed_up, f"{len(mixed_up)} of 80 requests acted as another caller or with another body: {mixed_up[:5]}"


def test_concurrent_claims_of_one_task_have_exactly_one_winner(live: Live, tight_thread_switching: None) -> None:
    """16 workers claim one task at the same instant, ten times over: one 200, fifteen 409, and the winner is
    the account that holds the claim."""
    poster = live.new_agent("poster")
    workers = [live.new_agent(f"worker-{n}") for n in range(CLAIMERS)]
    for round_number in range(ROUNDS):
        task = post_task(live, poster, title=f"race {round_number}", tags=[unique_skill()])
        claim_url = f"{live.url}/tasks/{task['id']}/claim"

        def claimer(worker: Agent, url: str = claim_url) -> Callable[[], requests.Response]:
            return lambda: requests.post(
                url, json={"agent_id": worker.id}, headers=auth(worker), timeout=CONCURRENT_TIMEOUT
            )

        responses = _answered(_fire_together([claimer(worker) for worker in workers]))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [409] * (CLAIMERS - 1), (round_number, [r.text for r in responses])
        for response in responses:
            if response.status_code == 409:
                assert_error(response, 409, "task_not_claimable")
        (winner,) = [worker for worker, response in zip(workers, responses, strict=True) if response.status_code == 200]
        won = responses[workers.index(winner)].json()
        assert (won["claimed_by"], won["agent_id"], won["attempts"]) == (winner.id, winner.id, 1), (round_number, won)
        stored = requests.get(f"{live.url}/tasks/{task['id']}", timeout=CONCURRENT_TIMEOUT).json()
        assert (stored["status"], stored["claimed_by"], stored["attempts"]) == ("claimed", winner.id, 1), round_number


def test_concurrent_claim_next_hands_out_each_task_once(live: Live, tight_thread_switching: None) -> None:
    poster = live.new_agent("poster")
    workers = [live.new_agent(f"worker-{n}") for n in range(CLAIMERS)]
    skill = unique_skill()
    posted = {post_task(live, poster, title=f"one of three {n}", tags=[skill])["id"] for n in range(3)}

    def claimer(worker: Agent) -> Callable[[], requests.Response]:
        return lambda: requests.post(
            f"{live.url}/tasks/next/claim",
            params={"skills": skill},
            json={"agent_id": worker.id},
            headers=auth(worker),
            timeout=CONCURRENT_TIMEOUT,
        )

    responses = _answered(_fire_together([claimer(worker) for worker in workers]))
    assert all(response.status_code == 200 for response in responses), [r.text for r in responses]
    got = [(worker, response.json()["task"]) for worker, response in zip(workers, responses, strict=True)]
    winners = [(worker, task) for worker, task in got if task is not None]
    assert len(winners) == 3, [task and task["id"] for _, task in got]
    assert {task["id"] for _, task in winners} == posted
    for worker, task in winners:
        assert (task["status"], task["claimed_by"], task["agent_id"]) == ("claimed", worker.id, worker.id), task
        stored = requests.get(f"{live.url}/tasks/{task['id']}", timeout=CONCURRENT_TIMEOUT).json()
        assert stored["claimed_by"] == worker.id
    empty = [response.json() for response in responses if response.json()["task"] is None]
    assert empty == [{"task": None, "retry": True, "cursor": None}] * (CLAIMERS - 3)
