"""Local sandbox create + first exec, and one more exec, beside a bare subprocess in the same run."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from agent_runtime.sandboxes.base import Sandbox, SandboxSpec
from agent_runtime.sandboxes.local.provider import BubblewrapProvider

ROUNDS = 30


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(samples) * 1000, "p95_ms": percentile(samples, 0.95) * 1000}


async def run_true(sandbox: Sandbox) -> None:
    execution = await sandbox.exec(["/bin/true"])
    async for _ in execution.output():
        pass
    await execution.wait()


async def bare_process() -> None:
    process = await asyncio.create_subprocess_exec("/bin/true")
    await process.wait()


async def measure() -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as root:
        provider = BubblewrapProvider(Path(root) / "sandboxes")
        await provider.check()
        await provider.open()
        create_and_first: list[float] = []
        next_exec: list[float] = []
        bare: list[float] = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            sandbox = await provider.create(SandboxSpec(session_id=str(uuid.uuid4())))
            await run_true(sandbox)
            create_and_first.append(time.perf_counter() - started)
            started = time.perf_counter()
            await run_true(sandbox)
            next_exec.append(time.perf_counter() - started)
            await sandbox.terminate()
            started = time.perf_counter()
            await bare_process()
            bare.append(time.perf_counter() - started)
        await provider.close()
    figures = {
        "create_and_first_exec": summary(create_and_first),
        "next_exec": summary(next_exec),
        "bare_subprocess": summary(bare),
    }
    figures["next_exec"]["ratio_vs_bare_p50"] = figures["next_exec"]["p50_ms"] / figures["bare_subprocess"]["p50_ms"]
    return figures
