"""CreateSession, GetSession and ListSessions at 16 concurrent callers, through a runtime on each storage
backend (SQLite, memory, PostgreSQL), beside the same backend's storage server called directly with the
matching PersistenceAdapter RPC in the same run: the ratio is what the runtime's hop costs."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import (
    agent_runtime_pb2_grpc,
    persistence_pb2,
    persistence_pb2_grpc,
    session_pb2,
)
from bench.sandbox_latency import percentile
from tests.support import postgres, processes

KEY = "bench-key"
AUTH = (("authorization", f"Bearer {KEY}"),)
CALLERS = 16
CALLS = {"create": 1600, "get": 1600, "list": 480}  # per measurement, shared by the callers
BACKENDS = ("sqlite", "memory", "postgres")
PROFILE = "name: Bench\n"


async def concurrently(call: Callable[[int], Awaitable[Any]], total: int) -> dict[str, float]:
    """`total` calls spread over CALLERS tasks: requests per second and latency percentiles."""
    latencies: list[float] = []

    async def caller(first: int) -> None:
        for index in range(first, total, CALLERS):
            started = time.perf_counter()
            await call(index)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller(first) for first in range(CALLERS)))
    elapsed = time.perf_counter() - started
    return {
        "requests_per_second": total / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


async def through_runtime(address: str) -> dict[str, dict[str, float]]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
        created: list[str] = [""] * CALLS["create"]

        async def create(index: int) -> None:
            request = api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic")
            created[index] = (await stub.CreateSession(request, metadata=AUTH)).session_id

        async def get(index: int) -> None:
            request = api.GetSessionRequest(session_id=created[index], view=session_pb2.SESSION_VIEW_BASIC)
            await stub.GetSession(request, metadata=AUTH)

        async def page(index: int) -> None:
            await stub.ListSessions(api.ListSessionsRequest(page_size=50), metadata=AUTH)

        return {
            "create": await concurrently(create, CALLS["create"]),
            "get": await concurrently(get, CALLS["get"]),
            "list": await concurrently(page, CALLS["list"]),
        }


async def direct(address: str) -> dict[str, dict[str, float]]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = persistence_pb2_grpc.PersistenceAdapterStub(channel)
        ids = [f"00000000-0000-4000-8000-{index:012d}" for index in range(CALLS["create"])]

        async def create(index: int) -> None:
            now = timestamp_pb2.Timestamp()
            now.GetCurrentTime()
            record = persistence_pb2.SessionRecord(
                session_id=ids[index], architecture="anthropic", agent_profile_ref="default", created_at=now
            )
            await stub.CreateSessionRecord(persistence_pb2.CreateSessionRecordRequest(session=record))

        async def get(index: int) -> None:
            await stub.GetSessionRecord(persistence_pb2.GetSessionRecordRequest(session_id=ids[index]))

        async def page(index: int) -> None:
            await stub.ListAllSessions(persistence_pb2.ListAllSessionsRequest(page_size=50))

        return {
            "create": await concurrently(create, CALLS["create"]),
            "get": await concurrently(get, CALLS["get"]),
            "list": await concurrently(page, CALLS["list"]),
        }


@contextlib.contextmanager
def databases(backend: str, root: Path) -> Iterator[tuple[list[str], list[str]]]:
    """The runtime's storage flags and the direct storage server's, each on a database of its own."""
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            runtime_db, direct_db = (stack.enter_context(postgres.fresh_database()) for _ in range(2))
            yield [f"--storage={runtime_db}"], ["--postgres", direct_db]
        elif backend == "sqlite":
            yield ["--storage=sqlite"], ["--sqlite", str(root / "direct.sqlite")]
        else:
            yield ["--storage=memory"], ["--memory"]


@contextlib.asynccontextmanager
async def servers(backend: str) -> AsyncIterator[tuple[str, str]]:
    """A runtime and a storage server on the same kind of backend: (runtime address, storage address)."""
    with tempfile.TemporaryDirectory() as root, databases(backend, Path(root)) as (runtime_flags, storage_flags):
        profiles = Path(root) / "profiles"
        profiles.mkdir()
        (profiles / "default.yaml").write_text(PROFILE)
        runtime = processes.start(
            ["serve", "--grpc-address=127.0.0.1:0", f"--data-dir={root}/data", f"--profiles-dir={profiles}",
             "--log-level=warning", *runtime_flags],
            env={"AGENT_RUNTIME_API_KEY": KEY},
        )  # fmt: skip
        storage = processes.start(
            ["storage", "serve", *storage_flags, "--address=127.0.0.1:0", f"--profiles-dir={profiles}",
             "--log-level=warning"]
        )  # fmt: skip
        try:
            yield runtime.address, storage.address
        finally:
            runtime.stop()
            storage.stop()


async def measure() -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for backend in BACKENDS:
        async with servers(backend) as (runtime_address, storage_address):
            runtime = await through_runtime(runtime_address)
            bare = await direct(storage_address)
        for rpc in CALLS:
            figures[f"{backend}.{rpc}"] = {
                **runtime[rpc],
                "direct_requests_per_second": bare[rpc]["requests_per_second"],
                "direct_p50_ms": bare[rpc]["p50_ms"],
                "ratio_vs_direct": runtime[rpc]["requests_per_second"] / bare[rpc]["requests_per_second"],
            }
    return figures
