"""What a function keeps for its container's life: observability, and the board wired to its table.

Everything here is made once per cold start, lazily, and holds no request state."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from taskboard.core.observability import logger, metrics, tracer
from taskboard.core.settings import get_settings

if TYPE_CHECKING:
    from taskboard.accounts.service import Accounts
    from taskboard.gigs.catalog import Gigs
    from taskboard.gigs.orderbook import OrderBook
    from taskboard.money.ledger import Ledgers
    from taskboard.tasks.scheduler import TimerScheduler
    from taskboard.tasks.service import TaskBoard
    from taskboard.webhooks.delivery import Deliverer, WebhookQueue
    from taskboard.webhooks.service import Webhooks
    from taskboard.webhooks.store import SubscriptionRepository

__all__ = [
    "accounts",
    "board",
    "deliverer",
    "forget",
    "gigs",
    "ledgers",
    "logger",
    "metrics",
    "on_forget",
    "order_book",
    "queue",
    "scheduler",
    "tracer",
]

# What else keeps per-container state (the HTTP glue's rate limiter and idempotency store): cleared by forget().
_also_forget: list[Callable[[], None]] = []


def on_forget(clear: Callable[[], None]) -> None:
    """Register something `forget` must clear too (a module above this one, which this one cannot import)."""
    if clear not in _also_forget:
        _also_forget.append(clear)


@lru_cache(maxsize=1)
def board() -> TaskBoard:
    from taskboard.money.purse import Purse
    from taskboard.reputation.store import Records
    from taskboard.tasks.service import TaskBoard
    from taskboard.tasks.store import TaskRepository

    settings = get_settings()
    return TaskBoard(
        TaskRepository(settings.table_name),
        purse=Purse(settings.table_name, settings.fee_percent, fee_accounts=settings.fee_accounts),
        records=Records(settings.table_name).of,
        poll_interval=settings.poll_interval_seconds,
        webhooks=webhooks,
        feed_settle_seconds=settings.feed_settle_seconds,
    )


@lru_cache(maxsize=1)
def gigs() -> Gigs:
    from taskboard.accounts.store import AccountRepository
    from taskboard.gigs.catalog import Gigs
    from taskboard.gigs.store import GigRepository

    table = get_settings().table_name
    return Gigs(GigRepository(table), AccountRepository(table))


@lru_cache(maxsize=1)
def order_book() -> OrderBook:
    """The task board with the order's rules (taskboard.gigs.orderbook.OrderBook), on the same table and purse."""
    from taskboard.gigs.orderbook import OrderBook
    from taskboard.gigs.store import GigRepository
    from taskboard.money.purse import Purse
    from taskboard.reputation.store import Records
    from taskboard.tasks.store import TaskRepository

    settings = get_settings()
    return OrderBook(
        TaskRepository(settings.table_name),
        purse=Purse(settings.table_name, settings.fee_percent, fee_accounts=settings.fee_accounts),
        records=Records(settings.table_name).of,
        gigs=GigRepository(settings.table_name),
    )


@lru_cache(maxsize=1)
def webhooks() -> Webhooks:
    from taskboard.webhooks.service import Webhooks

    return Webhooks(subscriptions(), queue(), allow_loopback=get_settings().allow_loopback_webhooks)


@lru_cache(maxsize=1)
def subscriptions() -> SubscriptionRepository:
    from taskboard.webhooks.store import SubscriptionRepository

    return SubscriptionRepository(get_settings().table_name)


@lru_cache(maxsize=1)
def queue() -> WebhookQueue:
    from taskboard.webhooks.delivery import WebhookQueue

    settings = get_settings()
    return WebhookQueue(settings.webhook_queue_url, settings.webhook_dead_letter_queue_url)


@lru_cache(maxsize=1)
def deliverer() -> Deliverer:
    from taskboard.webhooks.delivery import Deliverer

    settings = get_settings()
    return Deliverer(
        subscriptions(),
        queue(),
        settings.webhook_retry_schedule,
        allow_loopback=settings.allow_loopback_webhooks,
    )


@lru_cache(maxsize=1)
def accounts() -> Accounts:
    from taskboard.accounts.service import Accounts
    from taskboard.accounts.store import AccountRepository
    from taskboard.core import outbound

    settings = get_settings()
    return Accounts(
        AccountRepository(settings.table_name),
        open_registration=settings.open_registration,
        signup_grant=settings.signup_grant,
        granted_agents_per_owner=settings.granted_agents_per_owner,
        # contact URLs are shown, never called: checked for form, not resolved (no DNS at registration)
        check_url=lambda url: outbound.check_url_form(url, allow_loopback=settings.allow_loopback_webhooks),
    )


@lru_cache(maxsize=1)
def ledgers() -> Ledgers:
    from taskboard.money.ledger import Ledgers

    return Ledgers(get_settings().table_name)


@lru_cache(maxsize=1)
def scheduler() -> TimerScheduler:
    from taskboard.tasks.scheduler import TimerScheduler

    settings = get_settings()
    return TimerScheduler(settings.due_timers_state_machine_arn, settings.timer_margin_seconds)


def forget() -> None:
    """Drop every per-container object (the local stack and tests start a new 'container')."""
    from taskboard.accounts.keys import key_lookup

    for cached in (
        board,
        gigs,
        order_book,
        accounts,
        ledgers,
        key_lookup,
        scheduler,
        subscriptions,
        webhooks,
        queue,
        deliverer,
        get_settings,
    ):
        cached.cache_clear()
    for clear in _also_forget:
        clear()
