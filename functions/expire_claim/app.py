"""Claim-expiry timer: after its Wait state, lets the claim lapse (open again, or failed on the last attempt).

Does nothing (successfully) when the claim was extended, delivered, released or replaced since the timer
started; raises TimerFiredEarly, which the state machine retries, if woken before the deadline."""

from __future__ import annotations

from taskboard.entry.timers import timer_handler
from taskboard.tasks.timers import TimerKind

handler = timer_handler(TimerKind.CLAIM_EXPIRY)
