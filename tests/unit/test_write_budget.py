"""A session's storage writes: a burst after a quiet spell, then one per interval."""

from __future__ import annotations

import pytest

from agent_runtime.events.write_budget import WriteBudget


def test_a_quiet_session_writes_a_burst_at_once_then_one_per_interval() -> None:
    budget = WriteBudget(interval_seconds=0.004, burst=4)
    for _ in range(4):
        assert budget.wait_seconds(10.0) == 0.0
        budget.spend(10.0)
    assert budget.wait_seconds(10.0) == pytest.approx(0.004)
    assert budget.wait_seconds(10.003) > 0
    assert budget.wait_seconds(10.004) == pytest.approx(0.0, abs=1e-12)


def test_a_steady_stream_is_held_to_one_write_per_interval() -> None:
    budget, now, writes = WriteBudget(interval_seconds=0.005, burst=4), 0.0, 0
    while now < 1.0:
        now += budget.wait_seconds(now)
        budget.spend(now)
        writes += 1
    assert writes <= 4 + 200 + 1  # the burst, then 200 a second
