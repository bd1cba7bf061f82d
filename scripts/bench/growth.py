"""Section 3: GET /tasks/next?skills=rare as the table fills with tasks it must not read (other skills, and
'rare' tasks that are claimed or finished), seeded straight into moto in the repository's own item format; then
what one call reads at most, and what it cannot see past."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from local.stack import ACCOUNT, REGION, ProxyResponse, Stack
from scripts.bench import layer
from scripts.bench.api import UNLIMITED, BenchApi, Request, measure
from scripts.bench.recorder import Recorder
from scripts.bench.report import number, out, progress, section, table

RARE = "rare"
OTHER_SKILLS = ("python", "sql", "scraping", "translation", "vision", "math", "writing", "search")


class Seeder:
    """Writes whole tasks (the items TaskRepository.create/save write) straight into moto's table: ~3x faster
    than batch_write_item through botocore, which it falls back to (25 items a request) if moto's internals move.
    moto keeps no separate index storage, so the indexes see these items exactly as if the API had written them."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.tasks = self.items = 0
        try:
            from moto.dynamodb.models import dynamodb_backends

            backend = dynamodb_backends[ACCOUNT][REGION]
            backend.get_table(table)
            self._backend: Any = backend
        except Exception:
            import boto3

            self._backend = None
            self._client = boto3.client("dynamodb", region_name=REGION)  # not the recorded one

    def add(self, tasks: Iterable[tuple[Any, Any]]) -> None:
        with self._unchecked_sizes():
            self._add(tasks)

    @contextmanager
    def _unchecked_sizes(self) -> Iterator[None]:
        """moto re-measures the whole item on every attribute it sets (quadratic, two thirds of the seeding time);
        these items are ~1 KB, far below the 400 KB it guards, so the check is skipped while seeding."""
        try:
            from moto.dynamodb.models.dynamo_type import LimitedSizeDict
        except ImportError:
            yield
            return
        checked = LimitedSizeDict.__setitem__
        LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[assignment]
        try:
            yield
        finally:
            LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]

    def _add(self, tasks: Iterable[tuple[Any, Any]]) -> None:
        batch: list[dict[str, Any]] = []
        for state, body in tasks:
            self.tasks += 1
            for item in layer.task_items(state, body):
                self.items += 1
                if self._backend is not None:
                    self._backend.put_item(self.table, item)
                    continue
                batch.append({"PutRequest": {"Item": item}})
                if len(batch) == 25:
                    self._write(batch)
                    batch = []
        if batch:
            self._write(batch)

    def _write(self, batch: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {self.table: batch}
        while request:
            request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def make_tasks(
    tag: str, count: int, start: datetime, poster: str | None = None, become: Callable[[Any], Any] | None = None
) -> Iterator[tuple[Any, Any]]:
    """`count` tasks tagged `tag`, created a millisecond apart from `start`, optionally moved on by `become`."""
    body = layer.task_body(description="Do the thing.", input={"text": "hello"})
    for n in range(count):
        created = layer.to_iso(start + timedelta(milliseconds=n))
        state = layer.new_task(
            id=str(uuid.uuid4()),
            title=f"{tag} task {n}",
            poster_id=poster or str(uuid.uuid4()),
            created_at=created,
            updated_at=created,
            tags=(tag,),
        )
        yield (become(state) if become else state), body


def claimed_now(state: Any) -> Any:
    """Claimed by someone else a moment ago, for the default hour: not claimable again for a long while."""
    return layer.claim(state, "another-worker", layer.utc_now())


def completed(state: Any) -> Any:
    now = layer.utc_now() - timedelta(minutes=5)
    delivered = layer.deliver(layer.claim(state, "another-worker", now), "another-worker", now)
    return layer.complete(delivered, state.poster_id, now)


def answer(response: ProxyResponse, expected: str | None) -> str:
    if response.status != 200:
        return f"HTTP {response.status}"
    task = response.json().get("task")
    if task is None:
        return "no task (retry)"
    return "the oldest open 'rare'" if task["id"] == expected else f"another task ({task['status']})"


def run() -> None:
    section("3. GET /tasks/next?skills=rare&timeout=0 as the table grows")
    now = datetime.now(UTC)
    rows = []
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = BenchApi(stack), Recorder()
        seeder = Seeder(os.environ["TABLE_NAME"])
        worker = api.agent("worker")
        rare = list(make_tasks(RARE, 5, now - timedelta(hours=1)))
        seeder.add(rare)
        oldest = rare[0][0].id
        old = now - timedelta(days=3)  # older than the open 'rare' tasks: they would sort first if they were read
        others = (
            skill_task for n in range(20_000) for skill_task in make_tasks(OTHER_SKILLS[n % len(OTHER_SKILLS)], 1, old)
        )
        steps: list[tuple[str, Iterable[tuple[Any, Any]]]] = [
            ("5 open 'rare' tasks, nothing else", []),
            ("+ 1,000 open tasks of other skills", (next(others) for _ in range(1_000))),
            ("+ 19,000: 20,000 of other skills", others),
            ("+ 1,000 'rare' claimed (unexpired)", make_tasks(RARE, 1_000, old, become=claimed_now)),
            ("+ 1,000 'rare' completed", make_tasks(RARE, 1_000, old, become=completed)),
            ("+ 19,000: 20,000 'rare' claimed", make_tasks(RARE, 19_000, old, become=claimed_now)),
            ("+ 19,000: 20,000 'rare' completed", make_tasks(RARE, 19_000, old, become=completed)),
        ]
        request = Request("GET", "/tasks/next", worker.key, query=f"skills={RARE}&timeout=0")
        seeded = 0.0
        for label, tasks in steps:
            progress(f"/tasks/next: {label}")
            start = time.perf_counter()
            seeder.add(tasks)
            seeded += time.perf_counter() - start
            cost, response = measure(recorder, api, request)
            rows.append(
                (
                    label,
                    f"{seeder.tasks:,}",
                    f"{seeder.items:,}",
                    cost.describe(),
                    cost.items_read,
                    number(cost.rcu),
                    answer(response, oldest),
                )
            )
    table(("table holds", "tasks", "items", "DynamoDB requests", "read", "RCU~", "answer"), rows, right=(1, 2, 4, 5))
    out()
    out("Claimed and completed 'rare' tasks were created before the open ones, so they would come first if the")
    out("Available index read them. Items read = Query ScannedCount + BatchGetItem items (STATE and BODY of each")
    out(f"candidate) + the key's GetItem. Seeded {seeder.tasks:,} tasks ({seeder.items:,} items) in {seeded:.0f} s.")
    bench_next_bounds()


def bench_next_bounds() -> None:
    """What one call reads at most, and what it cannot see past."""
    now = datetime.now(UTC)
    rows = []
    with Stack(environment=UNLIMITED) as stack:
        api, recorder = BenchApi(stack), Recorder()
        seeder = Seeder(os.environ["TABLE_NAME"])
        worker = api.agent("worker")
        many = list(make_tasks("many", 100, now - timedelta(hours=1)))
        seeder.add(many)
        seeder.add(make_tasks("own", 100, now - timedelta(hours=2), poster=worker.id))
        theirs = list(make_tasks("own", 5, now - timedelta(hours=1)))
        seeder.add(theirs)
        cases = [
            (
                "100 open 'many' tasks",
                "GET /tasks/next",
                Request("GET", "/tasks/next", worker.key, query="skills=many&timeout=0"),
                many[0][0].id,
            ),
            (
                "100 oldest open 'own' posted by the caller, 5 newer by others",
                "GET /tasks/next",
                Request("GET", "/tasks/next", worker.key, query="skills=own&timeout=0"),
                theirs[0][0].id,
            ),
            (
                "(same)",
                "POST /tasks/next/claim",
                Request("POST", "/tasks/next/claim", worker.key, None, "skills=own&timeout=0"),
                theirs[0][0].id,
            ),
        ]
        for situation, endpoint, request, expected in cases:
            cost, response = measure(recorder, api, request)
            found = response.json().get("task") if response.status == 200 else None
            result = (
                "no task (retry)"
                if found is None
                else ("the oldest claimable" if found["id"] == expected else "another")
            )
            rows.append((situation, endpoint, cost.describe(), cost.items_read, number(cost.rcu), result))
    out()
    out("Per-call bounds (a fresh small table):")
    table(("table holds", "endpoint", "DynamoDB requests", "read", "RCU~", "answer"), rows, right=(3, 4))
    out()
    out("Each attempt reads a partition's head page, then at most 4 more pages of 100 index entries (Limit 102 per")
    out("Query) on from where the last attempt stopped, and loads the STATE of candidates 5 at a time. Entries the")
    out("caller may not take (its own tasks, ones it already attempted, outside its filters or record) are dropped by")
    out("the Query's filter after they are read, so they cost reads; a call reads on without waiting up to 25 pages")
    out("per skill, and its answer's `cursor` lets the next call go on from there, so no number of them hides a")
    out('claimable task (README: "A search that never hides work").')
