"""Events through the runtime (EventLog, StreamSessionEvents, interceptors) to N subscribers, beside a
bare grpc.aio server streaming the same messages, in the same process and run; and the storage calls
the runtime makes per 1,000 token deltas."""

from __future__ import annotations

import asyncio
import contextlib
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
from agent_runtime.storage.server import IN_MEMORY, start_storage_server

KEY = "bench-key"
AUTH = (("authorization", f"Bearer {KEY}"),)
SUBSCRIBERS = {1: 3000, 10: 1000, 100: 200}  # subscribers -> events sent to each
DELTAS = 1000
DELTA_RATES = (100, 1000)  # tokens a second a model streams


def delta(session_id: str, index: int) -> events_pb2.SessionEvent:
    return events_pb2.SessionEvent(
        session_id=session_id,
        conversation_id="main",
        block_delta=events_pb2.BlockDelta(block_id="msg-1-0", delta=f"token {index} ", kind=events_pb2.DELTA_KIND_TEXT),
    )


@contextlib.asynccontextmanager
async def runtime() -> AsyncIterator[tuple[str, EventLog, str]]:
    """The runtime's event path in this process, on in-memory storage: (address, log, a session id)."""
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "profiles").mkdir()
        (Path(root) / "profiles" / "default.yaml").write_text("name: Bench\n")
        storage_server = await start_storage_server(IN_MEMORY, Path(root) / "profiles", f"unix:{root}/s.sock")
        storage = StorageClient(storage_server.address)
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
            yield address, log, created.session_id
        finally:
            await server.stop(None)
            await log.close()
            await storage.close()
            await storage_server.stop()


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
    (the subscribers' and, through the runtime, the in-memory storage's too)."""

    events: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_seconds / self.events * 1e6


async def through_runtime(subscribers: int, count: int) -> Delivery:
    async with runtime() as (address, log, session_id):
        request = api.StreamSessionEventsRequest(
            session_id=session_id, after_sequence=await log.head(session_id), follow=True
        )

        def open_stream(channel: grpc.aio.Channel) -> Any:
            return agent_runtime_pb2_grpc.AgentRuntimeStub(channel).StreamSessionEvents(request, metadata=AUTH)

        gate = Gate(subscribers)
        readers = [asyncio.create_task(receive(address, open_stream, count, gate)) for _ in range(subscribers)]
        await gate.opened.wait()
        started, cpu = time.perf_counter(), time.process_time()
        for index in range(count):
            log.append(delta(session_id, index))
            if index % 64 == 0:
                await asyncio.sleep(0)
        await asyncio.gather(*readers)
        return Delivery(subscribers * count, time.perf_counter() - started, time.process_time() - cpu)


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
    async with runtime() as (_, log, session_id):
        before = log.storage_writes
        started = time.perf_counter()
        for index in range(DELTAS):
            log.append(delta(session_id, index))
            await asyncio.sleep(max(0.0, started + (index + 1) / per_second - time.perf_counter()))
        await log.flush(session_id)
        return (log.storage_writes - before) * 1000 / DELTAS


async def measure() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for subscribers, count in SUBSCRIBERS.items():
        served = await through_runtime(subscribers, count)
        baseline = await bare(subscribers, count)
        figures[f"subscribers_{subscribers}"] = {
            "events_per_second": served.rate,
            "bare_events_per_second": baseline.rate,
            "ratio_vs_bare": served.rate / baseline.rate,
            "cpu_us_per_event": served.cpu_us_per_event,
            "bare_cpu_us_per_event": baseline.cpu_us_per_event,
            "runtime_cpu_us_per_event": served.cpu_us_per_event - baseline.cpu_us_per_event,
        }
    figures["storage_rpcs_per_1000_deltas"] = {
        f"at_{rate}_per_second": await storage_writes_per_thousand_deltas(rate) for rate in DELTA_RATES
    }
    return figures
