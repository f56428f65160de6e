"""Says in the runtime's log when a model API keeps failing (5xx, 429, unreachable) and when it answers
again: one warning once FAILURES_BEFORE_WARNING answers in a row failed, then at most one a
WARN_EVERY_SECONDS while it goes on, so a model outage is visible without a line per retry."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

FAILURES_BEFORE_WARNING = 3
WARN_EVERY_SECONDS = 30.0


@dataclass
class _Streak:
    failures: int = 0
    warned_at: float | None = None


class UpstreamHealth:
    def __init__(self) -> None:
        self._streaks: dict[str, _Streak] = {}

    def failed(self, vendor: str, what: str) -> None:
        streak = self._streaks.setdefault(vendor, _Streak())
        streak.failures += 1
        now = time.monotonic()
        due = streak.warned_at is None or now - streak.warned_at >= WARN_EVERY_SECONDS
        if streak.failures >= FAILURES_BEFORE_WARNING and due:
            streak.warned_at = now
            log.warning("the %s model API keeps failing: %d answers in a row, the last %s",
                        vendor, streak.failures, what)  # fmt: skip

    def answered(self, vendor: str) -> None:
        streak = self._streaks.pop(vendor, None)
        if streak is not None and streak.warned_at is not None:
            log.info("the %s model API answers again, after %d failures", vendor, streak.failures)
