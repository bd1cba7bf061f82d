"""What a function keeps for its container's life: observability, and the board wired to its table.

Everything here is made once per cold start, lazily, and holds no request state."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, Tracer

from taskboard.auth import key_lookup
from taskboard.service import TaskBoard
from taskboard.settings import get_settings
from taskboard.timers import TimerKind, TimerScheduler

if TYPE_CHECKING:
    from taskboard.accounts import Accounts
    from taskboard.delivery import Deliverer, WebhookQueue
    from taskboard.ratelimit import RateLimiter
    from taskboard.subscriptions import SubscriptionRepository
    from taskboard.webhooks import Webhooks

# The template sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE; the defaults keep a module that is
# imported before its environment is set (a test collecting it) from emitting metrics without a namespace.
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "agent-task-board"))
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "AgentTaskBoard"))


@lru_cache(maxsize=1)
def board() -> TaskBoard:
    from taskboard.money import Purse
    from taskboard.repository import TaskRepository
    from taskboard.reputation import Records

    settings = get_settings()
    return TaskBoard(
        TaskRepository(settings.table_name),
        purse=Purse(settings.table_name, settings.fee_percent),
        records=Records(settings.table_name).of,
        poll_interval=settings.poll_interval_seconds,
        webhooks=webhooks,
        feed_settle_seconds=settings.feed_settle_seconds,
    )


@lru_cache(maxsize=1)
def webhooks() -> Webhooks:
    from taskboard.webhooks import Webhooks

    return Webhooks(subscriptions(), queue(), allow_loopback=get_settings().allow_loopback_webhooks)


@lru_cache(maxsize=1)
def subscriptions() -> SubscriptionRepository:
    from taskboard.subscriptions import SubscriptionRepository

    return SubscriptionRepository(get_settings().table_name)


@lru_cache(maxsize=1)
def queue() -> WebhookQueue:
    from taskboard.delivery import WebhookQueue

    settings = get_settings()
    return WebhookQueue(settings.webhook_queue_url, settings.webhook_dead_letter_queue_url)


@lru_cache(maxsize=1)
def deliverer() -> Deliverer:
    from taskboard.delivery import Deliverer

    settings = get_settings()
    return Deliverer(
        subscriptions(),
        queue(),
        settings.webhook_retry_schedule,
        allow_loopback=settings.allow_loopback_webhooks,
    )


@lru_cache(maxsize=1)
def accounts() -> Accounts:
    from taskboard import outbound
    from taskboard.accounts import AccountRepository, Accounts

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
def rate_limiter() -> RateLimiter:
    from taskboard.ratelimit import RateLimiter

    return RateLimiter(get_settings().rate_limit_table_name)


@lru_cache(maxsize=1)
def scheduler() -> TimerScheduler:
    settings = get_settings()
    return TimerScheduler(
        {
            TimerKind.CLAIM_EXPIRY: settings.claim_expiry_state_machine_arn,
            TimerKind.AUTO_COMPLETE: settings.auto_complete_state_machine_arn,
        }
    )


def forget() -> None:
    """Drop every per-container object (the local stack and tests start a new 'container')."""
    from taskboard import idempotency

    idempotency.forget()
    for cached in (
        board,
        accounts,
        key_lookup,
        rate_limiter,
        scheduler,
        subscriptions,
        webhooks,
        queue,
        deliverer,
        get_settings,
    ):
        cached.cache_clear()
