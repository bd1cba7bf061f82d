"""Finding work: which tasks a worker may take now, read from the Available index without a Scan.

Pure orchestration over the repository's index pages; the rules of who may take what are lifecycle's."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from taskboard.core.clock import to_iso
from taskboard.core.pagination import decode_scan, encode_scan
from taskboard.reputation.record import Record
from taskboard.tasks import lifecycle
from taskboard.tasks.items import ALL_TAG, INDEX_AVAILABLE, ListingPage, task_id_of
from taskboard.tasks.lifecycle import Status, TaskState
from taskboard.tasks.store import TaskRepository

# /tasks/next reads the index in pages of this many entries (filtered for the caller inside the Query), at most
# PAGES_PER_SEARCH pages per skill per attempt and PAGES_PER_CALL per skill in the attempts one call makes without
# waiting, and confirms candidates by reading their STATE this many at a time (README: "Finding work").
CANDIDATES_PER_PAGE = 100
PAGES_PER_SEARCH = 5
PAGES_PER_CALL = 25
STATES_PER_READ = 5


class Scan:
    """Where a search's reading of each skill's partition of the Available index stands, across the attempts
    of one call and, through the answer's `cursor`, across calls.

    Every attempt reads a partition's head page first (its oldest entries: the common case finds work there),
    then continues from where the last attempt stopped: entries a worker cannot take (its own tasks, ones it
    attempted, ones outside its filters) are read once per pass, not once per attempt, so a takeable task
    behind any number of them is reached. A pass that reaches the end of the partition wraps to the head,
    where a reopened task or a lapsed claim sorts in again."""

    def __init__(self, positions: dict[str, str] | None = None) -> None:
        self.positions: dict[str, str] = dict(positions or {})  # partition -> the sort key read up to
        self.pages: dict[str, int] = {}  # pages read per partition in this call
        self.cut = False  # an attempt stopped at its page budget with more of a partition unread

    def spent(self, partition: str) -> int:
        return self.pages.get(partition, 0)

    def exhausted(self) -> bool:
        """Whether the call has read its budget of a partition (so it stops reading on without waiting)."""
        return max(self.pages.values(), default=0) >= PAGES_PER_CALL

    def cursor(self) -> str | None:
        """Where the next call continues (None: from the head of every partition)."""
        return encode_scan(self.positions) if self.positions else None

    @classmethod
    def resumed(cls, cursor: str | None, search: Search) -> Scan:
        """The scan a previous call's cursor describes, for the same partitions. Raises InvalidCursor."""
        return cls(decode_scan(cursor, search.skills or (ALL_TAG,)))


@dataclass(frozen=True)
class Search:
    """What a worker looks for: tasks carrying any of `skills` (any task when empty), with a budget in
    [min_budget, max_budget]. `record` is the worker's own: a task whose qualifications it misses is not found."""

    skills: tuple[str, ...] = ()
    requires_human: bool | None = None
    min_budget: int | None = None
    max_budget: int | None = None
    record: Record | None = None
    # who answers for the worker (taskboard.accounts.parties.answerable): a task whose poster answers to the same
    # owner is not found (None: not known, no such filter)
    owner: str | None = None


def claimable(
    tasks: TaskRepository, caller: str, search: Search, now: datetime, scan: Scan | None = None
) -> Iterator[str]:
    """Ids of tasks the caller could claim now, oldest first: open (or with a lapsed claim), not its own,
    not one it already attempted, not one whose poster answers to the caller's owner. The index Query drops
    the tasks it may not take; only the STATE of the rest is read, a few at a time, to confirm (the index lags
    the table slightly). A task posted before its poster's owner was recorded has it looked up here."""
    scan = scan if scan is not None else Scan()
    streams = [
        _eligible_keys(tasks, partition, caller, search, to_iso(now), scan) for partition in search.skills or (ALL_TAG,)
    ]
    candidates = _unique(heapq.merge(*streams))
    while batch := list(itertools.islice(candidates, STATES_PER_READ)):
        states = _with_poster_owners(tasks, tasks.load_states([task_id_of(key) for key in batch]), search)
        for key in batch:
            state = states.get(task_id_of(key))
            if state is not None and takeable(lifecycle.settle(state, now), caller, search):
                yield state.id


def _with_poster_owners(tasks: TaskRepository, states: dict[str, TaskState], search: Search) -> dict[str, TaskState]:
    """`states` with each missing `poster_owner` looked up (one BatchGetItem), when the search filters on it."""
    unknown = [state.poster_id for state in states.values() if state.poster_owner is None]
    if search.owner is None or not unknown:
        return states
    owners = tasks.owners_of(unknown)
    return {
        task_id: state if state.poster_owner else replace(state, poster_owner=owners[state.poster_id])
        for task_id, state in states.items()
    }


def _eligible_keys(
    tasks: TaskRepository, partition: str, caller: str, search: Search, now: str, scan: Scan
) -> Iterator[str]:
    """The partition's keys the Query lets through, ascending: its head page, then on from where `scan` stopped
    (never behind the head page's end), at most PAGES_PER_SEARCH pages; `scan` learns where this stopped."""

    def page(after: str | None) -> ListingPage:
        scan.pages[partition] = scan.spent(partition) + 1
        return tasks.listing_page(
            INDEX_AVAILABLE,
            partition,
            limit=CANDIDATES_PER_PAGE,
            ascending=True,
            after=after,
            not_after=now,
            claimable_by=caller,
            owner=search.owner,
            requires_human=search.requires_human,
            budget=(search.min_budget, search.max_budget),
            qualified=search.record or Record(),
        )

    head = page(None)
    yield from head.sort_keys
    if not head.more or head.resume_after is None:
        scan.positions.pop(partition, None)  # the whole partition fits in one page: nothing to resume
        return
    after = max(head.resume_after, scan.positions.get(partition, ""))
    scan.positions[partition] = after
    for _ in range(PAGES_PER_SEARCH - 1):
        found = page(after)
        yield from found.sort_keys
        if not found.more or found.resume_after is None:
            scan.positions.pop(partition, None)  # read to the end: the next pass starts at the head again
            return
        after = scan.positions[partition] = found.resume_after
    scan.cut = True


def merged_page(
    tasks: TaskRepository,
    index: str,
    partitions: tuple[str, ...],
    limit: int,
    ascending: bool,
    after: str | None,
    **bounds: Any,
) -> tuple[list[str], str | None]:
    """One page over several index partitions (any-of skills), merged by sort key, each task once, and the
    sort key the next page starts after (None: this is the last page).

    A filtered Query may stop before it found `limit` keys; the page then ends where the first partition with
    more stopped, so no key between two pages is ever skipped."""
    pages = [tasks.listing_page(index, p, limit=limit, ascending=ascending, after=after, **bounds) for p in partitions]
    stops = [page.resume_after for page in pages if page.more and page.resume_after is not None]
    cut = (min(stops) if ascending else max(stops)) if stops else None
    keys = sorted({key for page in pages for key in page.sort_keys}, reverse=not ascending)
    if cut is not None:
        keys = [key for key in keys if (key <= cut if ascending else key >= cut)]
    if len(keys) >= limit and (len(keys) > limit or cut is not None):
        return keys[:limit], keys[limit - 1]
    return keys, cut


def takeable(state: TaskState, caller: str, search: Search) -> bool:
    return (
        state.status is Status.OPEN
        and state.poster_id != caller
        and caller not in state.past_workers
        and (search.owner is None or state.poster_owner is None or state.poster_owner != search.owner)
        and (search.requires_human is None or state.requires_human == search.requires_human)
        and within(state.budget, search.min_budget, search.max_budget)
        and (search.record or Record()).unmet(state.min_rating, state.min_completed) is None
    )


def within(budget: int, low: int | None, high: int | None) -> bool:
    return (low is None or budget >= low) and (high is None or budget <= high)


def _unique(keys: Iterator[str]) -> Iterator[str]:
    """Sorted keys with repeats dropped (a task listed under two of the searched skills)."""
    previous = None
    for key in keys:
        if key != previous:
            yield key
        previous = key
