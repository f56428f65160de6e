"""StreamSessionEvents and WatchSessions: replay, follow, resume, fan-out and their errors.

Changing a session's options is the event source here (options_update events), until agents add
their own.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, session_pb2
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles, rpc_error
from tests.support.rpc import assert_error, channel

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

UNKNOWN_SESSION = "3a1f0f3e-8d4b-4c55-9b0e-5b0c6f3f9a10"
SUBSCRIBER_LAG = 50
ARGS = ("--heartbeat-interval=0.2s", f"--max-subscriber-lag={SUBSCRIBER_LAG}")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("events")
    profiles = make_profiles(root / "profiles")
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS), ARGS)
    yield server
    server.process.stop()


async def new_session(stub: Stub) -> str:
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="default", architecture="claude-agent-sdk"), metadata=AUTH
    )
    return created.session_id


async def change_model(stub: Stub, session_id: str, model: str) -> None:
    await stub.UpdateSession(
        api.UpdateSessionRequest(
            session_id=session_id,
            session=session_pb2.Session(session_options=session_pb2.SessionOptions(model=model)),
            update_mask=field_mask_pb2.FieldMask(paths=["session_options"]),
        ),
        metadata=AUTH,
    )


def events_of(stub: Stub, session_id: str, after: int = 0, follow: bool = False) -> Any:
    request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=follow)
    return stub.StreamSessionEvents(request, metadata=AUTH)


async def models(stream: Any, count: int) -> AsyncIterator[tuple[int, str]]:
    """(sequence, model) of the next `count` events, heartbeats skipped."""
    seen = 0
    async for response in stream:
        if response.HasField("event"):
            yield response.event.sequence, response.event.options_update.session_options.model
            seen += 1
            if seen == count:
                return


async def test_a_stream_replays_then_follows(stub: Stub) -> None:
    session_id = await new_session(stub)
    for index in range(3):
        await change_model(stub, session_id, f"model-{index}")

    replayed = [
        (r.event.sequence, r.event.options_update.session_options.model) async for r in events_of(stub, session_id)
    ]
    assert replayed == [(1, "model-0"), (2, "model-1"), (3, "model-2")]
    first = await anext(aiter(events_of(stub, session_id)))
    assert first.event.session_id == session_id
    assert first.event.conversation_id == "main" and first.event.time.seconds > 0

    following = events_of(stub, session_id, after=1, follow=True)
    later = asyncio.create_task(change_model(stub, session_id, "model-3"))
    assert [item async for item in models(following, 3)] == [(2, "model-1"), (3, "model-2"), (4, "model-3")]
    await later
    following.cancel()


async def test_an_idle_stream_sends_heartbeats_with_the_head(stub: Stub) -> None:
    session_id = await new_session(stub)
    await change_model(stub, session_id, "only")
    stream = events_of(stub, session_id, after=1, follow=True)
    async for response in stream:
        assert response.HasField("heartbeat")
        assert response.heartbeat.head_sequence == 1
        break
    stream.cancel()


async def test_stream_errors(stub: Stub) -> None:
    session_id = await new_session(stub)
    await change_model(stub, session_id, "one")

    async def drain(session: str, after: int = 0) -> None:
        async for _ in events_of(stub, session, after=after):
            pass

    assert_error(await rpc_error(drain(UNKNOWN_SESSION)), grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")
    assert_error(await rpc_error(drain("nope")), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SESSION_ID")
    assert_error(await rpc_error(drain(session_id, after=2)), grpc.StatusCode.OUT_OF_RANGE, "CURSOR_BEYOND_HEAD")
    assert_error(await rpc_error(drain(session_id, after=-1)), grpc.StatusCode.INVALID_ARGUMENT, "NEGATIVE_NUMBER")


async def test_reconnecting_at_random_points_loses_and_repeats_nothing(stub: Stub) -> None:
    session_id = await new_session(stub)
    total = 300
    rng = random.Random(7)

    async def produce() -> None:
        for index in range(total):
            await change_model(stub, session_id, f"m{index}")

    producer = asyncio.create_task(produce())
    received: list[int] = []
    reconnects = 0
    while len(received) < total:
        stream = events_of(stub, session_id, after=received[-1] if received else 0, follow=True)
        budget = min(rng.randint(1, 40), total - len(received))
        async for sequence, model in models(stream, budget):
            assert model == f"m{sequence - 1}"
            received.append(sequence)
        stream.cancel()
        reconnects += 1
    await producer
    assert received == list(range(1, total + 1))
    assert reconnects > 5


async def test_a_hundred_subscribers_each_get_every_event_in_order(stub: Stub) -> None:
    session_id = await new_session(stub)
    count = 40
    streams = [events_of(stub, session_id, follow=True) for _ in range(100)]
    readers = [asyncio.create_task(collect(stream, count)) for stream in streams]
    for index in range(count):
        await change_model(stub, session_id, f"m{index}")
    results = await asyncio.gather(*readers)
    assert all(result == list(range(1, count + 1)) for result in results)


async def collect(stream: Any, count: int) -> list[int]:
    sequences = [sequence async for sequence, _ in models(stream, count)]
    stream.cancel()
    return sequences


async def test_fifty_sessions_stream_at_once(stub: Stub) -> None:
    sessions = [await new_session(stub) for _ in range(50)]
    count = 5
    readers = [asyncio.create_task(collect(events_of(stub, s, follow=True), count)) for s in sessions]

    async def produce(session_id: str) -> None:
        for index in range(count):
            await change_model(stub, session_id, f"m{index}")

    await asyncio.gather(*(produce(s) for s in sessions))
    assert all(result == list(range(1, count + 1)) for result in await asyncio.gather(*readers))


async def test_a_slow_subscriber_is_cut_off_and_resumes_without_loss(stub: Stub, runtime: Runtime) -> None:
    session_id = await new_session(stub)
    total = 3000
    # A reader that does not read: with HTTP/2 windows left at their 64 KiB default (no BDP probing to
    # widen them), the runtime soon cannot send, and its queue for this stream fills.
    slow = grpc.aio.insecure_channel(runtime.address, options=[("grpc.http2.bdp_probe", 0)])
    stream = events_of(agent_runtime_pb2_grpc.AgentRuntimeStub(slow), session_id, follow=True)
    await stream.initial_metadata()
    for start in range(0, total, 50):
        await asyncio.gather(*(change_model(stub, session_id, f"m{i}" * 20) for i in range(start, start + 50)))
    error = await rpc_error(collect(stream, total))
    await slow.close()
    assert_error(error, grpc.StatusCode.RESOURCE_EXHAUSTED, "SUBSCRIBER_TOO_SLOW")
    resumed = events_of(stub, session_id, after=0, follow=False)
    received = [r.event.sequence async for r in resumed]
    assert received == list(range(1, total + 1))


async def test_events_survive_a_runtime_killed_mid_stream(runtime: Runtime) -> None:
    async with channel(runtime.address) as before:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(before)
        session_id = await new_session(stub)
        for index in range(20):
            await change_model(stub, session_id, f"m{index}")
        seen = [sequence async for sequence, _ in models(events_of(stub, session_id, follow=True), 12)]
    runtime.process.stop(9)
    runtime.process = launch(runtime.data_dir, runtime.profiles_dir, runtime.extra_args)
    async with channel(runtime.address) as after:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(after)
        rest = [r.event.sequence async for r in events_of(stub, session_id, after=seen[-1])]
        await change_model(stub, session_id, "after restart")
        newest = [r.event async for r in events_of(stub, session_id, after=20)]
    assert seen + rest == list(range(1, 21))
    assert [(e.sequence, e.options_update.session_options.model) for e in newest] == [(21, "after restart")]


async def test_watch_sessions_reports_creates_updates_and_deletes(stub: Stub) -> None:
    watch = stub.WatchSessions(api.WatchSessionsRequest(), metadata=AUTH)
    kinds: list[tuple[int, str]] = []

    async def gather_changes() -> None:
        async for response in watch:
            if response.HasField("change"):
                kinds.append((response.change.kind, response.change.session.session_id))
                if len(kinds) == 3:
                    return

    await watch.initial_metadata()  # sent once the watch is keeping changes for us
    watching = asyncio.create_task(gather_changes())
    session_id = await new_session(stub)
    await change_model(stub, session_id, "watched")
    await stub.DeleteSession(api.DeleteSessionRequest(session_id=session_id, purge=True), metadata=AUTH)
    await asyncio.wait_for(watching, 30)
    watch.cancel()
    assert kinds == [
        (api.SESSION_CHANGE_KIND_CREATED, session_id),
        (api.SESSION_CHANGE_KIND_UPDATED, session_id),
        (api.SESSION_CHANGE_KIND_DELETED, session_id),
    ]
