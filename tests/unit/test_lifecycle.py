"""The lifecycle rules as pure functions: no AWS, no clock but the one passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from taskboard.core.clock import to_iso
from taskboard.core.errors import (
    InvalidTransition,
    NotThePoster,
    NotTheWorker,
    OwnTask,
    StaleClaim,
    TaskNotClaimable,
)
from taskboard.tasks import lifecycle
from taskboard.tasks.lifecycle import Status, TaskState

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
POSTER, WORKER, OTHER = "poster", "worker", "other"


def a_task(**changes: object) -> TaskState:
    base = TaskState(id="t1", title="t", poster_id=POSTER, created_at=to_iso(NOW), updated_at=to_iso(NOW))
    return replace(base, **changes)  # type: ignore[arg-type]


def claimed(attempts: int = 1, max_attempts: int = 3, timeout: int = 60) -> TaskState:
    return lifecycle.claim(
        a_task(attempts=attempts - 1, max_attempts=max_attempts, timeout_seconds=timeout), WORKER, NOW
    )


def test_claim_sets_worker_expiry_attempt_and_bumps_version() -> None:
    state = lifecycle.claim(a_task(timeout_seconds=90), WORKER, NOW, agent_id="bot")
    assert state.status is Status.CLAIMED and state.claimed_by == WORKER and state.agent_id == "bot"
    assert state.attempts == 1 and state.version == 2
    assert state.expires_at == to_iso(NOW + timedelta(seconds=90))


def test_claim_refuses_claimed_and_own_tasks() -> None:
    with pytest.raises(TaskNotClaimable):
        lifecycle.claim(claimed(), OTHER, NOW)
    with pytest.raises(OwnTask):
        lifecycle.claim(a_task(), POSTER, NOW)


def test_lapsed_claim_settles_to_open_keeping_the_version() -> None:
    state = claimed(timeout=60)
    settled = lifecycle.settle(state, NOW + timedelta(seconds=60))
    assert settled.status is Status.OPEN and settled.claimed_by is None
    assert settled.version == state.version  # the write that follows still races on the stored version
    assert WORKER in settled.past_workers
    assert lifecycle.settle(state, NOW + timedelta(seconds=59)) == state


def test_lapsed_last_attempt_settles_to_failed() -> None:
    settled = lifecycle.settle(claimed(attempts=3, max_attempts=3), NOW + timedelta(hours=2))
    assert settled.status is Status.FAILED and settled.failed_at is not None


def test_lapsed_claim_can_be_claimed_again_as_the_next_attempt() -> None:
    again = lifecycle.claim(claimed(timeout=60), OTHER, NOW + timedelta(seconds=61))
    assert again.claimed_by == OTHER and again.attempts == 2


@pytest.mark.parametrize("action", [lifecycle.heartbeat, lifecycle.release, lifecycle.deliver])
def test_worker_actions_refuse_strangers_with_403_and_lapsed_workers_with_409(action) -> None:  # type: ignore[no-untyped-def]
    state = claimed(timeout=60)
    with pytest.raises(NotTheWorker):
        action(state, OTHER, NOW)
    with pytest.raises(NotTheWorker):
        action(state, POSTER, NOW)
    with pytest.raises(StaleClaim):
        action(state, WORKER, NOW + timedelta(seconds=60))
    with pytest.raises(StaleClaim):
        action(state, WORKER, NOW, attempt=state.attempts + 1)


def test_previous_worker_gets_409_once_someone_else_holds_the_claim() -> None:
    taken_over = lifecycle.claim(claimed(timeout=60), OTHER, NOW + timedelta(seconds=61))
    with pytest.raises(StaleClaim):
        lifecycle.deliver(taken_over, WORKER, NOW + timedelta(seconds=62))


def test_heartbeat_moves_expiry_from_now() -> None:
    state = claimed(timeout=60)
    later = NOW + timedelta(seconds=50)
    assert lifecycle.heartbeat(state, WORKER, later).expires_at == to_iso(later + timedelta(seconds=60))


def test_release_uses_the_attempt() -> None:
    assert lifecycle.release(claimed(attempts=1, max_attempts=2), WORKER, NOW).status is Status.OPEN
    assert lifecycle.release(claimed(attempts=2, max_attempts=2), WORKER, NOW).status is Status.FAILED


def test_deliver_then_complete_or_reject() -> None:
    delivered = lifecycle.deliver(claimed(), WORKER, NOW)
    assert delivered.status is Status.DELIVERED and delivered.expires_at is None
    assert delivered.auto_complete_at == to_iso(NOW + timedelta(seconds=delivered.auto_complete_seconds))
    assert lifecycle.complete(delivered, POSTER, NOW).status is Status.COMPLETED
    reopened = lifecycle.reject(delivered, POSTER, NOW, "no")
    assert reopened.status is Status.OPEN and reopened.last_rejection_reason == "no" and reopened.claimed_by is None


def test_reject_on_last_attempt_fails() -> None:
    delivered = lifecycle.deliver(claimed(attempts=3, max_attempts=3), WORKER, NOW)
    assert lifecycle.reject(delivered, POSTER, NOW).status is Status.FAILED


def test_only_the_poster_completes_rejects_cancels() -> None:
    delivered = lifecycle.deliver(claimed(), WORKER, NOW)
    for action in (lifecycle.complete, lifecycle.reject):
        with pytest.raises(NotThePoster):
            action(delivered, WORKER, NOW)
    with pytest.raises(NotThePoster):
        lifecycle.cancel(a_task(), WORKER, NOW)


def test_complete_needs_a_delivery_and_cancel_needs_open() -> None:
    with pytest.raises(InvalidTransition):
        lifecycle.complete(claimed(), POSTER, NOW)
    with pytest.raises(InvalidTransition):
        lifecycle.cancel(claimed(), POSTER, NOW)
    # a lapsed claim reads open, so the poster may cancel it
    assert lifecycle.cancel(claimed(timeout=60), POSTER, NOW + timedelta(seconds=61)).status is Status.CANCELLED


def test_available_since_orders_open_by_creation_and_claimed_by_expiry() -> None:
    assert lifecycle.available_since(a_task()) == a_task().created_at
    state = claimed()
    assert lifecycle.available_since(state) == state.expires_at
    assert lifecycle.available_since(lifecycle.deliver(state, WORKER, NOW)) is None


def test_only_the_poster_reviews_and_only_a_completed_task() -> None:
    delivered = lifecycle.deliver(claimed(), WORKER, NOW)
    done = lifecycle.complete(delivered, POSTER, NOW)

    reviewed = lifecycle.review(done, POSTER, NOW + timedelta(seconds=5))

    assert reviewed.status is Status.COMPLETED and reviewed.claimed_by == WORKER
    assert reviewed.version == done.version + 1 and reviewed.updated_at == to_iso(NOW + timedelta(seconds=5))
    with pytest.raises(NotThePoster):
        lifecycle.review(done, WORKER, NOW)
    with pytest.raises(InvalidTransition):
        lifecycle.review(delivered, POSTER, NOW)
    with pytest.raises(InvalidTransition):
        lifecycle.review(lifecycle.cancel(a_task(), POSTER, NOW), POSTER, NOW)


def test_qualifications_are_checked_when_claiming() -> None:
    from taskboard.core.errors import NotQualified
    from taskboard.reputation.record import Record

    demanding = a_task(min_rating=4.5, min_completed=2)
    with pytest.raises(NotQualified) as refused:
        lifecycle.claim(demanding, WORKER, NOW, record=Record(completed=1, rating_sum=10, rating_count=2))
    assert refused.value.message == "This task requires at least 2 completed tasks; you have 1."
    with pytest.raises(NotQualified) as refused:
        lifecycle.claim(demanding, WORKER, NOW, record=Record(completed=2, rating_sum=13, rating_count=3))
    assert refused.value.message == "This task requires a mean rating of at least 4.5; yours is 4.33 over 3 reviews."
    assert refused.value.extra["yours"] == {"rating_avg": 4.33, "rating_count": 3, "completed": 2}
    with pytest.raises(NotQualified):
        lifecycle.claim(demanding, WORKER, NOW)  # no record given: no reviews, nothing completed
    ok = lifecycle.claim(demanding, WORKER, NOW, record=Record(completed=2, rating_sum=9, rating_count=2))
    assert ok.claimed_by == WORKER
    assert lifecycle.claim(a_task(), WORKER, NOW).claimed_by == WORKER  # no qualifications: no record needed


# ---- one owner's accounts are one party ---------------------------------------------------------------------

OWNER = "owner"


def test_who_answers_for_an_account_is_its_owner_or_itself() -> None:
    from taskboard.accounts.parties import answerable

    assert answerable(WORKER, OWNER) == OWNER  # an agent an owner connected
    assert answerable(OWNER, None) == OWNER  # the owner itself
    assert answerable(WORKER, None) == WORKER  # an agent that signed up alone


def test_a_claim_across_one_owners_accounts_is_refused() -> None:
    from taskboard.core.errors import SameOwner

    task = a_task(poster_owner=OWNER)  # posted by an agent of OWNER (or by OWNER itself)
    # a claimer answering to OWNER: a sibling of the poster, or OWNER itself
    with pytest.raises(SameOwner) as refused:
        lifecycle.claim(task, WORKER, NOW, owner=OWNER)
    assert refused.value.code == "same_owner" and refused.value.status == 403
    # the poster claiming its own task is still `own_task`, whatever the owners say
    with pytest.raises(OwnTask):
        lifecycle.claim(task, POSTER, NOW, owner=OWNER)
    # same-owner comes before the task's status: a sibling learns why, not that the task is taken
    with pytest.raises(SameOwner):
        lifecycle.claim(replace(claimed(), poster_owner=OWNER), OTHER, NOW, owner=OWNER)
    # another owner's agent, or an agent of no owner, claims as usual
    assert lifecycle.claim(task, WORKER, NOW, owner="another-owner").claimed_by == WORKER
    assert lifecycle.claim(task, WORKER, NOW, owner=WORKER).poster_owner == OWNER  # kept on the task
    # unknown on either side: nothing to compare (the service always knows both)
    assert lifecycle.claim(a_task(), WORKER, NOW, owner=OWNER).claimed_by == WORKER
    assert lifecycle.claim(task, WORKER, NOW).claimed_by == WORKER


def test_check_parties_compares_only_known_owners() -> None:
    from taskboard.core.errors import SameOwner

    with pytest.raises(SameOwner):
        lifecycle.check_parties(OWNER, OWNER)
    lifecycle.check_parties(OWNER, "another-owner")
    lifecycle.check_parties(None, OWNER)
    lifecycle.check_parties(None, None)
