"""Auto-complete timer: after its Wait state, completes a delivery the poster neither completed nor rejected.

Does nothing (successfully) when the poster acted first; raises TimerFiredEarly, which the state machine
retries, if woken before the deadline."""

from __future__ import annotations

from taskboard.entry.timers import timer_handler
from taskboard.tasks.timers import TimerKind

handler = timer_handler(TimerKind.AUTO_COMPLETE)
