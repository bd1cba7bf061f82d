"""Who gets an event: from a committed event item (read off the table's stream) to one queued message per
interested subscription. Reading the stream, not sending from the request, is what makes an event reach its
subscribers if and only if its change committed, even when a Lambda dies right after the write.

Per event: one Query per account involved (the poster, and the worker the change concerns), one Query per tag
for task.created (skill subscriptions), nothing for a task callback (its key is known); results are reused
for the other events of the same batch."""

from __future__ import annotations

import json
from typing import Any

from taskboard.webhooks.delivery import Message
from taskboard.webhooks.store import Route, Subscription, SubscriptionRepository, callback_id


class Fanout:
    """Lives for one batch of stream records: caches what it read about accounts and skills."""

    def __init__(self, subscriptions: SubscriptionRepository) -> None:
        self.subscriptions = subscriptions
        self._accounts: dict[str, list[Subscription]] = {}
        self._skills: dict[str, list[Route]] = {}

    def messages(self, image: dict[str, Any]) -> list[Message]:
        """The messages for one event item (its stream NewImage)."""
        event = json.loads(image["envelope"]["S"])
        event_type = event["type"]
        task = event["data"].get("task") or {}  # an order's event carries its order instead: no callback, no tags
        routes: dict[Route, None] = {}
        # the accounts the event concerns (an item written before 2026-12 names them poster_id / worker_id)
        poster = image.get("feed_poster", image.get("poster_id", {})).get("S")
        for account in (poster, image.get("feed_worker", image.get("worker_id", {})).get("S")):
            if account:
                for sub in self._account(account):
                    if sub.status == "active" and sub.wants(event_type):
                        routes[Route(sub.owner_id, sub.id)] = None
        if image.get("callback", {}).get("BOOL"):
            routes[Route(task["poster_id"], callback_id(task["id"]))] = None
        if event_type == "task.created":
            for tag in task.get("tags", []):
                for route in self._skill(tag):
                    routes[route] = None
        return [Message(route, event) for route in routes]

    def _account(self, account: str) -> list[Subscription]:
        if account not in self._accounts:
            self._accounts[account] = self.subscriptions.account_subscriptions(account)
        return self._accounts[account]

    def _skill(self, skill: str) -> list[Route]:
        if skill not in self._skills:
            self._skills[skill] = list(self.subscriptions.skill_routes(skill))
        return self._skills[skill]
