"""Webhook delivery: one queued message is one attempt to POST one event to one subscription.

Messages travel on an SQS standard queue. A failed attempt schedules the next by sending a new message with
attempt + 1 and the time it is due: SQS delays a message at most 15 minutes, so a message that arrives before
it is due is hidden again (ChangeMessageVisibility, up to 12 hours at a time) and left on the queue. After
the last attempt the message goes to the dead-letter queue, from which one command replays it (README).
Only this module decides outcomes; the Lambda handler around it just runs a batch's messages in parallel."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from taskboard.core import outbound
from taskboard.core.aws import client
from taskboard.core.clock import Clock, from_iso, to_iso, utc_now
from taskboard.webhooks.signing import signed_headers
from taskboard.webhooks.store import DeliveryAttempt, Route, Subscription, SubscriptionRepository

ANSWER_TIMEOUT_SECONDS = 10.0
DISABLE_AFTER_FAILING = timedelta(days=5)
RETRY_AFTER_MAX_SECONDS = 86_400
SQS_MAX_DELAY = 900
SQS_MAX_VISIBILITY = 43_200
USER_AGENT = "AgentTaskBoard-Webhooks/1.0"


@dataclass(frozen=True)
class Message:
    route: Route
    event: dict[str, Any]  # the Standard Webhooks envelope, sent as the body
    attempt: int = 1
    due: str | None = None  # not before this time (a retry); None: now

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "owner_id": self.route.owner_id,
                "webhook_id": self.route.webhook_id,
                "event": self.event,
                "attempt": self.attempt,
                "due": self.due,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Message:
        data = json.loads(text)
        return cls(Route(data["owner_id"], data["webhook_id"]), data["event"], int(data["attempt"]), data.get("due"))

    @property
    def lane(self) -> tuple[str, str]:
        """Messages of one lane (a subscription and a task) are sent one after the other, in `order`."""
        data = self.event.get("data") or {}
        task = data.get("task") or data.get("order") or {}
        return self.route.webhook_id, str(task.get("id") or self.event["id"])

    @property
    def order(self) -> int:
        return int((self.event.get("data") or {}).get("sequence") or 0)

    @property
    def body(self) -> bytes:
        """The bytes POSTed and signed: the same for every attempt of the event."""
        return json.dumps(self.event, separators=(",", ":")).encode()


class WebhookQueue:
    """The delivery queue and its dead-letter queue (SQS)."""

    def __init__(self, url: str, dead_letter_url: str, sqs: Any = None) -> None:
        self.url, self.dead_letter_url = url, dead_letter_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        if self._sqs is None:
            self._sqs = client("sqs")
        return self._sqs

    def send(self, messages: Iterable[Message]) -> None:
        """SendMessageBatch, 10 at a time. Raises if any entry is not accepted (the caller's record is retried;
        a duplicate delivery carries the same webhook-id, which receivers deduplicate on)."""
        pending = list(messages)
        for start in range(0, len(pending), 10):
            chunk = pending[start : start + 10]
            entries = [{"Id": str(n), "MessageBody": m.to_json()} for n, m in enumerate(chunk)]
            failed = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed", [])
            if failed:
                raise RuntimeError(f"SQS refused {len(failed)} of {len(entries)} webhook messages: {failed[0]}")

    def later(self, message: Message, delay: int) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=message.to_json(), DelaySeconds=min(delay, SQS_MAX_DELAY))

    def hide(self, receipt_handle: str, seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=min(seconds, SQS_MAX_VISIBILITY)
        )

    def dead_letter(self, message: Message, reason: str) -> None:
        """Parked for an operator; a replay starts the schedule over (attempt 1, due now)."""
        self.sqs.send_message(
            QueueUrl=self.dead_letter_url,
            MessageBody=replace(message, attempt=1, due=None).to_json(),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}},
        )


Post = Callable[[outbound.Target, bytes, dict[str, str]], outbound.Answer]
Check = Callable[[str], outbound.Target]


class Deliverer:
    def __init__(
        self,
        subscriptions: SubscriptionRepository,
        queue: WebhookQueue,
        schedule: tuple[int, ...],
        *,
        allow_loopback: bool = False,
        clock: Clock = utc_now,
        post: Post | None = None,
        check: Check | None = None,
    ) -> None:
        self.subscriptions, self.queue, self.schedule, self.clock = subscriptions, queue, schedule, clock
        self.check: Check = check or (lambda url: outbound.check_url(url, allow_loopback=allow_loopback))
        self.post: Post = post or (lambda t, b, h: outbound.post(t, b, h, timeout=ANSWER_TIMEOUT_SECONDS))

    @property
    def attempts_max(self) -> int:
        return len(self.schedule) + 1

    def handle(self, message: Message, receipt_handle: str) -> bool:
        """Attempt one delivery. True: the message is done with (delivered, retried as a new message, parked or
        dropped). False: it is not due yet and was hidden again; leave it on the queue."""
        now = self.clock()
        if message.due is not None:
            wait = (from_iso(message.due) - now).total_seconds()
            if wait > 1:
                self.queue.hide(receipt_handle, math.ceil(wait))
                return False
        sub = self.subscriptions.find(message.route)
        if sub is None or sub.status != "active" or not sub.wants(message.event["type"]):
            return True  # deleted, disabled or no longer interested: nothing to send
        answer, duration_ms = self._send(sub, message, now)
        attempt = DeliveryAttempt(
            webhook_id=sub.id,
            event_id=message.event["id"],
            event_type=message.event["type"],
            attempt=message.attempt,
            attempted_at=to_iso(now),
            outcome="delivered",
            status_code=answer.status,
            error=answer.error,
            duration_ms=duration_ms,
        )
        if answer.status is not None and 200 <= answer.status < 300:
            if sub.failing_since:
                self.subscriptions.mark_healthy(sub)
            self.subscriptions.log(attempt)
            return True
        if answer.status == 410:
            self.subscriptions.disable(sub, "The endpoint answered 410 Gone.", now)
            self.subscriptions.log(replace(attempt, outcome="disabled"))
            return True
        return self._failed(sub, message, answer, attempt, now)

    def _send(self, sub: Subscription, message: Message, now: datetime) -> tuple[outbound.Answer, int]:
        body = message.body
        headers = signed_headers(message.event["id"], int(now.timestamp()), body, sub.live_secrets(now))
        headers["User-Agent"] = USER_AGENT
        started = time.monotonic()
        try:
            target = self.check(sub.url)  # again at every attempt: the name may resolve elsewhere by now
        except outbound.UnsafeUrl as error:
            return outbound.Answer(status=None, error=f"blocked: {error.message}", retry_after=None, body_excerpt=""), 0
        answer = self.post(target, body, headers)
        return answer, int((time.monotonic() - started) * 1000)

    def _failed(
        self,
        sub: Subscription,
        message: Message,
        answer: outbound.Answer,
        attempt: DeliveryAttempt,
        now: datetime,
    ) -> bool:
        if sub.failing_since is None:
            self.subscriptions.mark_failing(sub, now)
        elif now - from_iso(sub.failing_since) >= DISABLE_AFTER_FAILING:
            self.subscriptions.disable(sub, "Every delivery failed for 5 days.", now)
            self.subscriptions.log(replace(attempt, outcome="disabled"))
            return True
        if message.attempt >= self.attempts_max:
            self.queue.dead_letter(message, f"{self.attempts_max} attempts failed; last: {describe(answer)}")
            self.subscriptions.log(replace(attempt, outcome="failed"))
            return True
        delay = self.schedule[message.attempt - 1]
        if answer.status in (429, 503) and answer.retry_after is not None:
            delay = min(max(math.ceil(answer.retry_after), 1), RETRY_AFTER_MAX_SECONDS)
        due = to_iso(now + timedelta(seconds=delay))
        self.queue.later(replace(message, attempt=message.attempt + 1, due=due), delay)
        self.subscriptions.log(replace(attempt, outcome="retrying", next_retry_at=due))
        return True


def describe(answer: outbound.Answer) -> str:
    return f"HTTP {answer.status}" if answer.status is not None else (answer.error or "no answer")
