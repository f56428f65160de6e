"""The Modal provider against the fake control plane: what the adapter and the real client cost per
operation, beside the same operations on the local provider in the same run."""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from agent_runtime.sandboxes.base import Sandbox, SandboxProvider, SandboxSpec
from agent_runtime.sandboxes.local.provider import BubblewrapProvider
from bench.sandbox_latency import percentile, run_true
from tests.fakes.modal import fake_modal_provider

ROUNDS = 10


async def file_round_trip(sandbox: Sandbox) -> None:
    await sandbox.write_file("bench/payload.bin", b"x" * 65536)
    await sandbox.read_file("bench/payload.bin")


@contextlib.contextmanager
def stopwatch(samples: dict[str, list[float]], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    samples.setdefault(name, []).append(time.perf_counter() - started)


async def measure_provider(provider: SandboxProvider) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        with stopwatch(samples, "create"):
            sandbox = await provider.create(SandboxSpec(session_id=str(uuid.uuid4())))
        with stopwatch(samples, "exec"):
            await run_true(sandbox)
        with stopwatch(samples, "file_round_trip_64k"):
            await file_round_trip(sandbox)
        await sandbox.terminate()
    return samples


async def measure() -> dict[str, dict[str, float]]:
    async with fake_modal_provider() as modal:
        on_modal = await measure_provider(modal)
    with tempfile.TemporaryDirectory() as root:
        local = BubblewrapProvider(Path(root) / "sandboxes")
        await local.check()
        await local.open()
        on_local = await measure_provider(local)
        await local.close()
    figures: dict[str, dict[str, float]] = {}
    for name, samples in on_modal.items():
        p50 = statistics.median(samples) * 1000
        figures[name] = {
            "p50_ms": p50,
            "p95_ms": percentile(samples, 0.95) * 1000,
            "ratio_vs_local_p50": p50 / (statistics.median(on_local[name]) * 1000),
        }
    return figures
