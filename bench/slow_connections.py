"""The REST listener under a stranger's load: /health's answer time, p50 and p99, with 5,000 connections
that sent part of a request head and went quiet plus 20 unauthenticated requests announcing 45 MiB
bodies, beside the same with no load, in the same run on the same runtime."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from bench.sandbox_latency import percentile
from tests.support import processes

SLOW = 5000
OVERSIZE = 20
CALLS = 100
OVERSIZE_HEAD = (
    b"POST /sessions/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 47185920\r\n\r\n"
)


async def health_times(client: aiohttp.ClientSession, url: str) -> dict[str, float]:
    seconds = []
    for _ in range(CALLS):
        started = time.perf_counter()
        async with client.get(url) as answer:
            await answer.read()
        seconds.append(time.perf_counter() - started)
    return {"p50_ms": statistics.median(seconds) * 1000, "p99_ms": percentile(seconds, 0.99) * 1000}


@contextlib.asynccontextmanager
async def strangers(host: str, port: int) -> AsyncIterator[None]:
    writers = []
    try:
        for index in range(SLOW + OVERSIZE):
            _, writer = await asyncio.open_connection(host, port)
            writer.write(
                b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " if index < SLOW else OVERSIZE_HEAD + b"{" * 65536
            )
            writers.append(writer)
        yield
    finally:
        for writer in writers:
            writer.close()


async def measure() -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "profiles").mkdir()
        runtime = processes.start(
            ["serve", "--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0", f"--data-dir={root}/data",
             f"--profiles-dir={root}/profiles"],
            env={"AGENT_RUNTIME_API_KEY": "bench-key"},
        )  # fmt: skip
        try:
            host, port = runtime.rest_address.rsplit(":", 1)
            url = f"http://{host}:{port}/health"
            async with aiohttp.ClientSession() as client:
                quiet = await health_times(client, url)
                async with strangers(host, int(port)):
                    loaded = await health_times(client, url)
        finally:
            runtime.stop()
    return {"health_quiet": quiet, f"health_beside_{SLOW}_slow_connections": loaded}
