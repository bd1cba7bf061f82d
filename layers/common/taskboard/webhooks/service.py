"""The webhook endpoints' use cases: subscribe, look, rotate, test, read the delivery log. No HTTP, no boto3."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from taskboard.core import outbound
from taskboard.core.clock import Clock, to_iso, utc_now
from taskboard.core.errors import Conflict
from taskboard.core.pagination import DELIVERY_KEY, decode_cursor, encode_cursor
from taskboard.webhooks.delivery import Message, WebhookQueue
from taskboard.webhooks.models import (
    CreatedWebhook,
    CreateWebhookRequest,
    Delivery,
    DeliveryList,
    RotatedSecret,
    TestQueued,
    Webhook,
    WebhookList,
)
from taskboard.webhooks.signing import new_secret
from taskboard.webhooks.store import Route, Subscription, SubscriptionRepository, callback_id, new_webhook_id


class Webhooks:
    def __init__(
        self,
        subscriptions: SubscriptionRepository,
        queue: WebhookQueue,
        *,
        allow_loopback: bool = False,
        clock: Clock = utc_now,
    ) -> None:
        self.subscriptions, self.queue, self.clock = subscriptions, queue, clock
        self.allow_loopback = allow_loopback

    def create(self, caller: str, request: CreateWebhookRequest) -> CreatedWebhook:
        outbound.check_url(request.url, allow_loopback=self.allow_loopback)
        sub = Subscription(
            id=new_webhook_id(),
            owner_id=caller,
            url=request.url,
            secret=new_secret(),
            created_at=to_iso(self.clock()),
            events=tuple(dict.fromkeys(request.events or ())),
            skills=tuple(request.skills or ()),
        )
        self.subscriptions.create(sub)
        return CreatedWebhook(**view(sub).model_dump(), secret=sub.secret)

    def callback(self, caller: str, task_id: str, url: str, now: datetime) -> Subscription:
        """A task's callback_url as a subscription of its poster to that task's events (written with the task)."""
        outbound.check_url(url, allow_loopback=self.allow_loopback)
        return Subscription(
            id=callback_id(task_id),
            owner_id=caller,
            url=url,
            secret=new_secret(),
            created_at=to_iso(now),
            task_id=task_id,
        )

    def list(self, caller: str) -> WebhookList:
        subs = sorted(self.subscriptions.account_subscriptions(caller), key=lambda s: s.created_at)
        return WebhookList(webhooks=[view(s) for s in subs])

    def get(self, caller: str, webhook_id: str) -> Webhook:
        return view(self.subscriptions.get(caller, webhook_id))

    def delete(self, caller: str, webhook_id: str) -> None:
        self.subscriptions.delete(self.subscriptions.get(caller, webhook_id))

    def rotate(self, caller: str, webhook_id: str) -> RotatedSecret:
        rotated = self.subscriptions.rotate(self.subscriptions.get(caller, webhook_id), new_secret(), self.clock())
        assert rotated.previous_secret_expires_at is not None
        return RotatedSecret(
            id=rotated.id, secret=rotated.secret, previous_secret_expires_at=rotated.previous_secret_expires_at
        )

    def enable(self, caller: str, webhook_id: str) -> Webhook:
        """Resume deliveries after a 410 or 5 failing days (events in between are in GET /events)."""
        sub = self.subscriptions.get(caller, webhook_id)
        outbound.check_url(sub.url, allow_loopback=self.allow_loopback)
        return view(self.subscriptions.enable(sub))

    def test(self, caller: str, webhook_id: str) -> TestQueued:
        sub = self.subscriptions.get(caller, webhook_id)
        if sub.status != "active":
            raise Conflict("The webhook is disabled; enable it first (POST /webhooks/{id}/enable).")
        event: dict[str, Any] = {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "webhook.test",
            "timestamp": to_iso(self.clock()),
            "data": {"webhook_id": sub.id, "message": "A test event from Agent Task Board."},
        }
        self.queue.send([Message(Route(sub.owner_id, sub.id), event)])
        return TestQueued(event_id=event["id"])

    def deliveries(self, caller: str, webhook_id: str, limit: int, cursor: str | None) -> DeliveryList:
        sub = self.subscriptions.get(caller, webhook_id)
        attempts, last = self.subscriptions.attempts(sub.id, limit, decode_cursor(cursor, DELIVERY_KEY))
        return DeliveryList(
            deliveries=[Delivery.model_validate(attempt, from_attributes=True) for attempt in attempts],
            next_cursor=encode_cursor(last) if last else None,
        )


def view(sub: Subscription) -> Webhook:
    return Webhook(
        id=sub.id,
        url=sub.url,
        events=list(sub.events) or None,
        skills=list(sub.skills),
        task_id=sub.task_id,
        status=sub.status,  # type: ignore[arg-type]
        disabled_reason=sub.disabled_reason,
        disabled_at=sub.disabled_at,
        failing_since=sub.failing_since,
        previous_secret_expires_at=sub.previous_secret_expires_at,
        created_at=sub.created_at,
    )
