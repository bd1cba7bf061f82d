"""The timers' firing function: once a bucket of deadlines has ended, the DueTimers state machine invokes it to
fire every deadline the bucket holds (claim expiries and auto-completes alike; taskboard.tasks.timers).

Each deadline is applied only if it still applies (status, attempt and deadline checked in the same conditional
write as every transition), so a stale index entry or a second firing of the bucket does nothing."""

from __future__ import annotations

from taskboard.entry.timers import handler

__all__ = ["handler"]
