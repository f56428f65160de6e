"""Events through the runtime (EventLog, StreamSessionEvents, interceptors) to N subscribers, beside a
bare grpc.aio server streaming the same messages, in the same process and run; and the storage calls
the runtime makes per 1,000 token deltas. Storage is the embedded default: SQLite in a process of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from agent_runtime.api.servicer import AgentRuntimeServicer
from agent_runtime.events.log import EventLog
from agent_runtime.events.stream import EventStreams
from agent_runtime.fleet.routing import SessionRouter
from agent_runtime.rpc.auth_interceptor import ApiKeyInterceptor
from agent_runtime.rpc.error_interceptor import ErrorInterceptor
from agent_runtime.rpc.server_setup import bind, new_server
from agent_runtime.sandboxes.local.provider import BubblewrapProvider
from agent_runtime.sessions.lifecycle import Timing
from agent_runtime.sessions.live_session import SessionServices
from agent_runtime.sessions.manager import SessionManager
from agent_runtime.sessions.model_access import ModelAccess
from agent_runtime.sessions.watch_hub import SessionWatchHub
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.storage_process import StorageProcess

KEY = "bench-key"
AUTH = (("authorization", f"Bearer {KEY}"),)
SUBSCRIBERS = {1: 3000, 10: 1000, 100: 200}  # subscribers -> events sent to each
DELTAS = 1000
DELTA_RATES = (100, 1000)  # tokens a second a model streams
ROUNDS = 3


def delta(session_id: str, index: int) -> events_pb2.SessionEvent:
    return events_pb2.SessionEvent(
        session_id=session_id,
        conversation_id="main",
        block_delta=events_pb2.BlockDelta(block_id="msg-1-0", delta=f"token {index} ", kind=events_pb2.DELTA_KIND_TEXT),
    )


@contextlib.asynccontextmanager
async def runtime() -> AsyncIterator[tuple[str, EventLog, str, int]]:
    """The runtime's event path in this process: (address, log, a session id, the storage process's pid)."""
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "profiles").mkdir()
        (Path(root) / "profiles" / "default.yaml").write_text("name: Bench\n")
        storage_process = StorageProcess(f"{root}/bench.db", Path(root) / "profiles", f"unix:{root}/s.sock")
        await storage_process.start()
        storage = StorageClient(storage_process.address)
        log = EventLog(storage)
        watchers = SessionWatchHub(15.0)
        server = new_server([ApiKeyInterceptor(KEY), ErrorInterceptor()])
        sandboxes = BubblewrapProvider(Path(root) / "sandboxes")  # never used: no message is sent here
        services = SessionServices(storage, log, sandboxes, ModelAccess({}))
        sessions = SessionManager(services, watchers, Timing(sync_interval=30.0, idle_timeout=900.0))
        servicer = AgentRuntimeServicer(sessions, EventStreams(log, 15.0), watchers, SessionRouter(sessions))
        agent_runtime_pb2_grpc.add_AgentRuntimeServicer_to_server(servicer, server)
        address = bind(server, "127.0.0.1:0")
        await server.start()
        async with grpc.aio.insecure_channel(address) as channel:
            stub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
            created = await stub.CreateSession(
                api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic"), metadata=AUTH
            )
        try:
            assert storage_process.pid is not None
            yield address, log, created.session_id, storage_process.pid
        finally:
            await server.stop(None)
            await log.close()
            await storage.close()
            await storage_process.stop()


class Gate:
    """Opens once `expected` subscribers have their stream open, so timing starts with all of them."""

    def __init__(self, expected: int) -> None:
        self._expected = expected
        self.opened = asyncio.Event()

    def arrive(self) -> None:
        self._expected -= 1
        if self._expected == 0:
            self.opened.set()


async def receive(address: str, open_stream: Callable[[grpc.aio.Channel], Any], count: int, gate: Gate) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stream = open_stream(channel)
        await stream.initial_metadata()
        gate.arrive()
        received = 0
        async for response in stream:
            if response.HasField("event"):
                received += 1
                if received == count:
                    break
        stream.cancel()


@dataclass(frozen=True)
class Delivery:
    """Events delivered to all subscribers, in so many seconds, using so many seconds of this process's CPU
    (the runtime's and the subscribers') and of the storage process's."""

    events: int
    seconds: float
    cpu_seconds: float
    storage_cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_seconds / self.events * 1e6

    @property
    def storage_cpu_us_per_event(self) -> float:
        return self.storage_cpu_seconds / self.events * 1e6


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time another process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def through_runtime(subscribers: int, count: int) -> Delivery:
    async with runtime() as (address, log, session_id, storage_pid):
        request = api.StreamSessionEventsRequest(
            session_id=session_id, after_sequence=await log.head(session_id), follow=True
        )

        def open_stream(channel: grpc.aio.Channel) -> Any:
            return agent_runtime_pb2_grpc.AgentRuntimeStub(channel).StreamSessionEvents(request, metadata=AUTH)

        gate = Gate(subscribers)
        readers = [asyncio.create_task(receive(address, open_stream, count, gate)) for _ in range(subscribers)]
        await gate.opened.wait()
        started, cpu, storage_cpu = time.perf_counter(), time.process_time(), process_cpu_seconds(storage_pid)
        for index in range(count):
            log.append(delta(session_id, index))
            if index % 64 == 0:
                await asyncio.sleep(0)
        await asyncio.gather(*readers)
        await log.flush(session_id)
        return Delivery(
            subscribers * count,
            time.perf_counter() - started,
            time.process_time() - cpu,
            process_cpu_seconds(storage_pid) - storage_cpu,
        )


async def bare(subscribers: int, count: int) -> Delivery:
    message = api.StreamSessionEventsResponse(event=delta("bench", 0)).SerializeToString()
    go = asyncio.Event()

    async def stream(request: bytes, context: Any) -> AsyncIterator[bytes]:
        await context.send_initial_metadata(())
        await go.wait()
        for _ in range(count):
            yield message

    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler("bare", {"Stream": grpc.unary_stream_rpc_method_handler(stream)})
    server.add_generic_rpc_handlers((handler,))
    address = bind(server, "127.0.0.1:0")
    await server.start()

    def open_stream(channel: grpc.aio.Channel) -> Any:
        call = channel.unary_stream(
            "/bare/Stream",
            request_serializer=bytes,
            response_deserializer=api.StreamSessionEventsResponse.FromString,
        )
        return call(b"")

    gate = Gate(subscribers)
    readers = [asyncio.create_task(receive(address, open_stream, count, gate)) for _ in range(subscribers)]
    await gate.opened.wait()
    started, cpu = time.perf_counter(), time.process_time()
    go.set()
    await asyncio.gather(*readers)
    delivered = Delivery(subscribers * count, time.perf_counter() - started, time.process_time() - cpu)
    await server.stop(None)
    return delivered


async def storage_writes_per_thousand_deltas(per_second: int) -> float:
    """AppendEvents calls per 1,000 deltas from a model streaming `per_second` tokens a second."""
    async with runtime() as (_, log, session_id, _pid):
        before = log.storage_writes
        started = time.perf_counter()
        for index in range(DELTAS):
            log.append(delta(session_id, index))
            await asyncio.sleep(max(0.0, started + (index + 1) / per_second - time.perf_counter()))
        await log.flush(session_id)
        return (log.storage_writes - before) * 1000 / DELTAS


async def median_round(subscribers: int, count: int) -> tuple[Delivery, Delivery]:
    """The runtime's and the bare server's deliveries from the round whose ratio is the median: one
    round on a shared machine can be off by a third either way."""
    rounds = [(await through_runtime(subscribers, count), await bare(subscribers, count)) for _ in range(ROUNDS)]
    rounds.sort(key=lambda pair: pair[0].rate / pair[1].rate)
    return rounds[len(rounds) // 2]


async def measure() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for subscribers, count in SUBSCRIBERS.items():
        served, baseline = await median_round(subscribers, count)
        figures[f"subscribers_{subscribers}"] = {
            "events_per_second": served.rate,
            "bare_events_per_second": baseline.rate,
            "ratio_vs_bare": served.rate / baseline.rate,
            "cpu_us_per_event": served.cpu_us_per_event,
            "bare_cpu_us_per_event": baseline.cpu_us_per_event,
            "runtime_cpu_us_per_event": served.cpu_us_per_event - baseline.cpu_us_per_event,
            "storage_cpu_us_per_event": served.storage_cpu_us_per_event,
        }
    figures["storage_rpcs_per_1000_deltas"] = {
        f"at_{rate}_per_second": await storage_writes_per_thousand_deltas(rate) for rate in DELTA_RATES
    }
    return figures
