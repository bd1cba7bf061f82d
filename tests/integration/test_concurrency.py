"""Concurrent requests: each sees only its own event, and racing writers never both win."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.support import Agent, Api


def test_concurrent_requests_never_see_each_others_caller_or_path(api: Api, poster: Agent) -> None:
    # Given 16 workers, each about to read its own task many times at once, with threads switching often
    workers = [api.new_agent() for _ in range(16)]
    tasks = [api.post_task(poster)["id"] for _ in workers]
    for worker, task_id in zip(workers, tasks, strict=True):
        api.post(f"/tasks/{task_id}/claim", key=worker.key)
        api.post(f"/tasks/{task_id}/deliver", {"result": worker.id}, key=worker.key)
    start = threading.Barrier(len(workers))

    def read_own(pair: tuple[Agent, str]) -> list[tuple[int, str, object]]:
        worker, task_id = pair
        start.wait()
        answers = []
        for _ in range(15):
            response = api.get(f"/tasks/{task_id}", key=worker.key)
            answers.append((response.status, response.json()["id"], response.json()["result"]))
        return answers

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(len(workers)) as pool:
            seen = list(pool.map(read_own, zip(workers, tasks, strict=True)))
    finally:
        sys.setswitchinterval(switch)

    # Then every request answered for its own path and its own caller (the result shows only to its worker)
    for worker, task_id, answers in zip(workers, tasks, seen, strict=True):
        assert answers == [(200, task_id, worker.id)] * 15


def test_racing_claims_in_the_domain_have_exactly_one_winner(api: Api, poster: Agent) -> None:
    """The service itself (no HTTP, no handler): 16 threads read the same version and race the write."""
    from taskboard.core.errors import TaskNotClaimable
    from taskboard.runtime import board

    workers = [api.new_agent() for _ in range(16)]
    for _ in range(5):
        task_id = api.post_task(poster)["id"]
        start = threading.Barrier(len(workers))

        def claim(worker: Agent, task_id: str = task_id, start: threading.Barrier = start) -> str:
            start.wait()
            try:
                return board().claim(task_id, worker.id, None).claimed_by or ""
            except TaskNotClaimable:
                return "lost"

        with ThreadPoolExecutor(len(workers)) as pool:
            outcomes = list(pool.map(claim, workers))
        winners = [o for o in outcomes if o != "lost"]
        assert len(winners) == 1, outcomes
        assert api.get(f"/tasks/{task_id}").json()["claimed_by"] == winners[0]
