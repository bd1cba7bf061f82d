"""One delivery attempt and what follows it (Deliverer), with the network, the queue and the table faked: the
retry schedule, Retry-After, 410, five failing days, the dead-letter queue, messages that come up early, and
signatures checked with the `standardwebhooks` package exactly as a receiver would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from taskboard.core import outbound
from taskboard.core.clock import from_iso, to_iso
from taskboard.core.settings import Settings
from taskboard.webhooks.delivery import Deliverer, Message
from taskboard.webhooks.signing import new_secret
from taskboard.webhooks.store import DeliveryAttempt, Route, Subscription

SCHEDULE = Settings(table_name="t").webhook_retry_schedule
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TARGET = outbound.Target("https://hooks.example.com/in", "https", "hooks.example.com", 443, "/in", ("93.184.215.14",))


def answer(status: int | None, retry_after: float | None = None, error: str | None = None) -> outbound.Answer:
    return outbound.Answer(status=status, error=error, retry_after=retry_after, body_excerpt="")


@dataclass
class FakeSubscriptions:
    sub: Subscription | None
    logged: list[DeliveryAttempt] = field(default_factory=list)

    def find(self, route: Route) -> Subscription | None:
        return self.sub

    def log(self, attempt: DeliveryAttempt) -> None:
        self.logged.append(attempt)

    def mark_failing(self, sub: Subscription, now: datetime) -> None:
        assert self.sub is not None
        self.sub = replace(self.sub, failing_since=self.sub.failing_since or to_iso(now))

    def mark_healthy(self, sub: Subscription) -> None:
        assert self.sub is not None
        self.sub = replace(self.sub, failing_since=None)

    def disable(self, sub: Subscription, reason: str, now: datetime) -> None:
        assert self.sub is not None
        self.sub = replace(self.sub, status="disabled", disabled_reason=reason, disabled_at=to_iso(now))


@dataclass
class FakeQueue:
    later_sent: list[tuple[Message, int]] = field(default_factory=list)
    hidden: list[tuple[str, int]] = field(default_factory=list)
    parked: list[tuple[Message, str]] = field(default_factory=list)

    def later(self, message: Message, delay: int) -> None:
        self.later_sent.append((message, delay))

    def hide(self, receipt_handle: str, seconds: int) -> None:
        self.hidden.append((receipt_handle, seconds))

    def dead_letter(self, message: Message, reason: str) -> None:
        self.parked.append((message, reason))


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Endpoint:
    """The receiving end: answers from a script and keeps what it was sent."""

    answers: list[outbound.Answer]
    sent: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    def __call__(self, target: outbound.Target, body: bytes, headers: dict[str, str]) -> outbound.Answer:
        self.sent.append((body, headers))
        return self.answers.pop(0) if self.answers else answer(200)


def subscription(**changes: Any) -> Subscription:
    base = Subscription("wh_1", "owner-1", TARGET.url, new_secret(), to_iso(START))
    return replace(base, **changes)


def event(event_type: str = "task.claimed") -> dict[str, Any]:
    return {
        "id": "evt_" + "a" * 32,
        "type": event_type,
        "timestamp": to_iso(START),
        "data": {"task": {"id": "t-1", "title": "x"}, "sequence": 2},
    }


def deliverer(sub: Subscription | None, endpoint: Endpoint, clock: Clock | None = None, check: Any = None) -> Any:
    subs, queue = FakeSubscriptions(sub), FakeQueue()
    made = Deliverer(
        subs,  # type: ignore[arg-type]
        queue,  # type: ignore[arg-type]
        SCHEDULE,
        clock=clock or Clock(),
        post=endpoint,
        check=check or (lambda url: TARGET),
    )
    return made, subs, queue


def verify(secret: str, body: bytes, headers: dict[str, str]) -> Any:
    return Webhook(secret).verify(body, headers)


# ---- signatures -----------------------------------------------------------------------------------------------


def test_a_delivery_verifies_with_standardwebhooks_and_a_changed_body_id_or_timestamp_does_not() -> None:
    sub, endpoint = subscription(), Endpoint([])
    made, _, _ = deliverer(sub, endpoint, check=lambda url: TARGET)
    made.clock = lambda: datetime.now(UTC)  # the library refuses timestamps more than 5 minutes off
    assert made.handle(Message(Route("owner-1", "wh_1"), event()), "r") is True
    ((body, headers),) = endpoint.sent

    assert verify(sub.secret, body, headers) == event()
    assert headers["webhook-id"] == event()["id"]
    tampered_body = body.replace(b"task.claimed", b"task.completed")
    tampered = [
        (tampered_body, headers),
        (body, headers | {"webhook-id": "evt_" + "b" * 32}),
        (body, headers | {"webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}),
        (body, headers | {"webhook-signature": headers["webhook-signature"][:-4] + "AAA="}),
    ]
    for changed_body, changed_headers in tampered:
        with pytest.raises(WebhookVerificationError):
            verify(sub.secret, changed_body, changed_headers)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), body, headers)  # someone else's secret


def test_x_signature_is_the_hex_hmac_of_the_body_keyed_with_the_secret_text() -> None:
    import hashlib
    import hmac

    sub, endpoint = subscription(), Endpoint([])
    made, _, _ = deliverer(sub, endpoint)
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    ((body, headers),) = endpoint.sent
    expected = "sha256=" + hmac.new(sub.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    assert json.loads(body) == event()


def test_during_a_rotation_both_secrets_verify_and_after_24_hours_only_the_new_one() -> None:
    old, new = new_secret(), new_secret()
    now = datetime.now(UTC)
    rotated = subscription(
        secret=new, previous_secret=old, previous_secret_expires_at=to_iso(now + timedelta(hours=24))
    )
    endpoint = Endpoint([])
    made, _, _ = deliverer(rotated, endpoint)
    made.clock = lambda: now
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    ((body, headers),) = endpoint.sent
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(old, body, headers) == verify(new, body, headers) == event()

    later = replace(rotated, previous_secret_expires_at=to_iso(now - timedelta(seconds=1)))
    endpoint = Endpoint([])
    made, _, _ = deliverer(later, endpoint)
    made.clock = lambda: now
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    ((body, headers),) = endpoint.sent
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert verify(new, body, headers) == event()
    with pytest.raises(WebhookVerificationError):
        verify(old, body, headers)


# ---- outcomes -------------------------------------------------------------------------------------------------


def test_a_failing_endpoint_is_retried_on_the_schedule_then_parked_in_the_dead_letter_queue() -> None:
    clock = Clock()
    made, subs, queue = deliverer(subscription(), Endpoint([answer(500)] * 20), clock)
    message = Message(Route("owner-1", "wh_1"), event())
    for step, delay in enumerate(SCHEDULE, start=1):
        assert made.handle(message, f"r{step}") is True
        retried, sent_delay = queue.later_sent[-1]
        assert retried.attempt == step + 1
        assert from_iso(retried.due or "") - clock.now == timedelta(seconds=delay)
        assert sent_delay == delay  # the queue caps DelaySeconds at 15 minutes itself
        assert subs.logged[-1].outcome == "retrying" and subs.logged[-1].next_retry_at == retried.due
        clock.now = from_iso(retried.due or "")
        message = retried
    assert [d for _, d in queue.later_sent] == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]

    # the tenth attempt is the last: parked for an operator, to start over from attempt 1 when replayed
    assert made.handle(message, "r10") is True
    ((parked, reason),) = queue.parked
    assert parked.attempt == 10 and "10 attempts failed" in reason and "HTTP 500" in reason
    assert subs.logged[-1].outcome == "failed" and len(subs.logged) == 10


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_on_429_and_503_sets_the_next_attempt(status: int) -> None:
    clock = Clock()
    made, _, queue = deliverer(subscription(), Endpoint([answer(status, retry_after=120)]), clock)
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    ((retried, delay),) = queue.later_sent
    assert delay == 120 and from_iso(retried.due or "") == clock.now + timedelta(seconds=120)


def test_retry_after_on_other_statuses_is_ignored_and_an_absurd_one_is_capped() -> None:
    made, _, queue = deliverer(subscription(), Endpoint([answer(500, retry_after=120)]), Clock())
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    assert queue.later_sent[-1][1] == SCHEDULE[0]
    made, _, queue = deliverer(subscription(), Endpoint([answer(429, retry_after=10**9)]), Clock())
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    assert queue.later_sent[-1][1] == 86_400


def test_410_disables_the_subscription_at_once() -> None:
    made, subs, queue = deliverer(subscription(), Endpoint([answer(410)]), Clock())
    assert made.handle(Message(Route("owner-1", "wh_1"), event()), "r") is True
    assert subs.sub is not None and subs.sub.status == "disabled" and "410" in (subs.sub.disabled_reason or "")
    assert queue.later_sent == [] and subs.logged[-1].outcome == "disabled"
    # and what comes next for it is not sent
    endpoint = Endpoint([])
    made, _, _ = deliverer(subs.sub, endpoint, Clock())
    assert made.handle(Message(Route("owner-1", "wh_1"), event()), "r") is True
    assert endpoint.sent == []


def test_five_days_of_failures_disable_the_subscription_and_a_success_resets_the_count() -> None:
    clock = Clock()
    made, subs, _ = deliverer(subscription(), Endpoint([answer(500)] * 3 + [answer(200)] + [answer(500)] * 3), clock)
    message = Message(Route("owner-1", "wh_1"), event())
    made.handle(message, "r")
    assert subs.sub is not None and subs.sub.failing_since == to_iso(START)
    clock.now = START + timedelta(days=4, hours=23)
    made.handle(message, "r")
    assert subs.sub.status == "active"
    # a success in between starts the count again
    clock.now = START + timedelta(days=4, hours=23, minutes=30)
    made.handle(message, "r")
    made.handle(message, "r")
    assert subs.sub.failing_since is None and subs.sub.status == "active"
    clock.now = START + timedelta(days=5)
    made.handle(message, "r")
    assert subs.sub.status == "active" and subs.sub.failing_since == to_iso(clock.now)
    clock.now = START + timedelta(days=10)
    made.handle(message, "r")
    assert subs.sub.status == "disabled" and "5 days" in (subs.sub.disabled_reason or "")


def test_no_answer_within_the_timeout_is_a_failure_that_is_retried() -> None:
    made, subs, queue = deliverer(subscription(), Endpoint([answer(None, error="timed out after 10 s")]), Clock())
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    assert subs.logged[-1].status_code is None and subs.logged[-1].error == "timed out after 10 s"
    assert len(queue.later_sent) == 1


def test_a_url_that_now_resolves_inside_is_blocked_at_delivery_and_retried() -> None:
    def rebound(url: str) -> outbound.Target:
        return outbound.check_url(url, resolver=lambda host, port: ["10.0.0.7"])

    endpoint = Endpoint([])
    made, subs, queue = deliverer(subscription(), endpoint, Clock(), check=rebound)
    made.handle(Message(Route("owner-1", "wh_1"), event()), "r")
    assert endpoint.sent == []  # never connected
    assert (subs.logged[-1].error or "").startswith("blocked:") and "10.0.0.7" in (subs.logged[-1].error or "")
    assert len(queue.later_sent) == 1


def test_a_message_that_comes_up_before_it_is_due_is_hidden_again_and_not_sent() -> None:
    clock = Clock()
    endpoint = Endpoint([])
    made, _, queue = deliverer(subscription(), endpoint, clock)
    due = to_iso(START + timedelta(hours=20))
    assert made.handle(Message(Route("owner-1", "wh_1"), event(), attempt=8, due=due), "receipt") is False
    assert queue.hidden == [("receipt", 20 * 3600)] and endpoint.sent == []


def test_deleted_or_uninterested_subscriptions_get_nothing() -> None:
    endpoint = Endpoint([])
    made, subs, _ = deliverer(None, endpoint)
    assert made.handle(Message(Route("owner-1", "wh_1"), event()), "r") is True
    made, subs, _ = deliverer(subscription(events=("task.completed",)), endpoint)
    assert made.handle(Message(Route("owner-1", "wh_1"), event("task.claimed")), "r") is True
    assert endpoint.sent == [] and subs.logged == []


def test_messages_of_one_subscription_and_task_share_a_lane_ordered_by_sequence() -> None:
    route = Route("owner-1", "wh_1")
    claimed, created = Message(route, event("task.claimed")), Message(route, event("task.created"))
    created = replace(created, event=created.event | {"data": {"task": {"id": "t-1"}, "sequence": 1}})
    assert claimed.lane == created.lane == ("wh_1", "t-1")
    assert sorted([claimed, created], key=lambda m: m.order) == [created, claimed]
    other_task = replace(claimed, event=claimed.event | {"data": {"task": {"id": "t-2"}, "sequence": 2}})
    other_hook = replace(claimed, route=Route("owner-1", "wh_2"))
    test_event = Message(route, {"id": "evt_x", "type": "webhook.test", "timestamp": "", "data": {}})
    assert len({claimed.lane, other_task.lane, other_hook.lane, test_event.lane}) == 4
    assert Message.from_json(claimed.to_json()) == claimed
