"""A stranger's connections cannot exhaust the REST listener: a request head that trickles in is cut off
at --http-head-timeout, connections past --http-max-connections are answered 503 and closed at once, and
while a crowd of slow connections is open, health and a caller with the key are still served."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.integration.conftest import API_KEY, Runtime, launch, make_profiles

MAX_CONNECTIONS = 300
ARGS = ("--http-head-timeout=1s", f"--http-max-connections={MAX_CONNECTIONS}")
CUT_OFF_WITHIN_SECONDS = 20.0  # an upper bound for the server to act, not a measured figure
PARTIAL_HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("slow")
    profiles = make_profiles(root / "profiles")
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS), ARGS)
    yield server
    server.process.stop()


@contextlib.asynccontextmanager
async def slow_connections(runtime: Runtime, count: int) -> AsyncIterator[list[asyncio.StreamReader]]:
    """`count` connections, each having sent part of a request head and then nothing."""
    host, port = runtime.process.rest_address.rsplit(":", 1)
    opened = []
    try:
        for _ in range(count):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(PARTIAL_HEAD)
            opened.append((reader, writer))
        yield [reader for reader, _ in opened]
    finally:
        for _, writer in opened:
            writer.close()


@contextlib.asynccontextmanager
async def idle_connections(runtime: Runtime, count: int) -> AsyncIterator[None]:
    """`count` keep-alive connections, each having asked for /health once and read the answer: they hold
    their places for the keep-alive time, far longer than the test."""
    host, port = runtime.process.rest_address.rsplit(":", 1)
    opened = []
    try:
        for _ in range(count):
            reader, writer = await asyncio.open_connection(host, int(port))
            opened.append(writer)
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(
                int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
        yield
    finally:
        for writer in opened:
            writer.close()


async def test_a_head_that_never_ends_is_cut_off(runtime: Runtime) -> None:
    async with slow_connections(runtime, 1) as [reader]:
        answer = await asyncio.wait_for(reader.read(), CUT_OFF_WITHIN_SECONDS)

    assert answer == b"", "closed without an answer"


async def test_connections_past_the_limit_are_refused_at_once(runtime: Runtime) -> None:
    host, port = runtime.process.rest_address.rsplit(":", 1)
    async with idle_connections(runtime, MAX_CONNECTIONS):
        refused = []
        for _ in range(5):  # these send nothing: they wait for what the server says
            reader, writer = await asyncio.open_connection(host, int(port))
            refused.append(await asyncio.wait_for(reader.read(), CUT_OFF_WITHIN_SECONDS))
            writer.close()

    assert all(answer.startswith(b"HTTP/1.1 503 Service Unavailable") for answer in refused), refused


async def test_health_and_a_keyed_caller_are_served_beside_slow_connections(runtime: Runtime) -> None:
    base = f"http://{runtime.process.rest_address}"
    async with (
        slow_connections(runtime, MAX_CONNECTIONS // 2),
        idle_connections(runtime, MAX_CONNECTIONS // 4),
        aiohttp.ClientSession() as client,
    ):
        async with client.get(f"{base}/health") as health:
            assert health.status == 200
        headers = {"Authorization": f"Bearer {API_KEY}"}
        async with client.get(f"{base}/sessions", headers=headers) as listed:
            assert listed.status == 200
