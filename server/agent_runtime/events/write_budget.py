"""How soon a session's next storage write may start: a token bucket.

A session that was quiet may write a few batches back to back, so the first event after a pause (a model's
first token, just after the turn's own opening events) never waits for the writes just before it; a long
stream is held to one write per interval, so a model streaming a thousand tokens a second still costs at
most 1 / interval storage calls a second (past the first burst).
"""

from __future__ import annotations


class WriteBudget:
    def __init__(self, interval_seconds: float, burst: int) -> None:
        self._interval = interval_seconds
        self._burst = float(burst)
        self._credit = float(burst)
        self._counted_at = float("-inf")  # when _credit was last worked out (the event loop's clock)

    def wait_seconds(self, now: float) -> float:
        """How long until a write may start; 0: now."""
        return max(0.0, (1.0 - self._credit_at(now)) * self._interval)

    def spend(self, now: float) -> None:
        """A write starts now."""
        self._credit = self._credit_at(now) - 1.0
        self._counted_at = now

    def _credit_at(self, now: float) -> float:
        return min(self._burst, self._credit + (now - self._counted_at) / self._interval)
