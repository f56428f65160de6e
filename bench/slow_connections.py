"""The REST listener under a stranger's load: /health's answer time, p50 and p99, with 5,000 connections
that sent part of a request head and went quiet plus 20 unauthenticated requests announcing 45 MiB
bodies, and beside 4 callers with the key each sending the costliest JSON body the shim parses, beside the
same with no load, in the same run on the same runtime."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from agent_runtime.rest.costly_json import MAX_SEPARATORS
from bench.sandbox_latency import percentile
from tests.support import processes

SLOW = 5000
OVERSIZE = 20
CALLS = 100
KEY = "bench-key"
KEYED_BODIES = 4
# As many small JSON values as the shim parses (costly_json.MAX_SEPARATORS): the slowest kind of body,
# as one of a few long strings is the fastest.
COSTLY_BODY = b'{"name": "x", "metadata": {"padding": [' + b"0," * (MAX_SEPARATORS - 10) + b"0]}}"
OVERSIZE_HEAD = (
    b"POST /sessions/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 47185920\r\n\r\n"
)


async def health_times(client: aiohttp.ClientSession, url: str, pause: float = 0.0) -> dict[str, float]:
    """CALLS health checks, `pause` seconds apart."""
    seconds = []
    for _ in range(CALLS):
        await asyncio.sleep(pause)
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


@contextlib.asynccontextmanager
async def keyed_costly_bodies(client: aiohttp.ClientSession, base: str) -> AsyncIterator[list[int]]:
    """KEYED_BODIES creates with COSTLY_BODY, one after another on each caller, for as long as they run;
    yields the list of the statuses answered so far."""
    answered: list[int] = []
    warm = asyncio.Event()

    async def send_forever() -> None:
        while True:
            headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
            async with client.post(f"{base}/sessions/create", data=COSTLY_BODY, headers=headers) as answer:
                await answer.read()
                answered.append(answer.status)
                warm.set()

    callers = [asyncio.create_task(send_forever()) for _ in range(KEYED_BODIES)]
    await warm.wait()  # the first answer: the parser is warm and the rest are on their way
    try:
        yield answered
    finally:
        for caller in callers:
            caller.cancel()
        await asyncio.gather(*callers, return_exceptions=True)


async def measure() -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "profiles").mkdir()
        runtime = processes.start(
            ["serve", "--grpc-address=127.0.0.1:0", "--http-address=127.0.0.1:0", f"--data-dir={root}/data",
             f"--profiles-dir={root}/profiles"],
            env={"AGENT_RUNTIME_API_KEY": KEY},
        )  # fmt: skip
        try:
            host, port = runtime.rest_address.rsplit(":", 1)
            url = f"http://{host}:{port}/health"
            async with aiohttp.ClientSession() as client:
                quiet = await health_times(client, url)
                async with strangers(host, int(port)):
                    loaded = await health_times(client, url)
                async with (
                    aiohttp.ClientSession() as senders,
                    keyed_costly_bodies(senders, f"http://{host}:{port}") as answered,
                ):
                    parsing = await health_times(client, url, pause=0.03)  # spread over several bodies
                    parsing["bodies_refused_400"] = answered.count(400)
        finally:
            runtime.stop()
    return {
        "health_quiet": quiet,
        f"health_beside_{SLOW}_slow_connections": loaded,
        f"health_beside_{KEYED_BODIES}_keyed_costly_bodies": parsing,
    }
