"""A turn whose turn_completed is out has ended: an interrupt or an unload that arrives while the runtime
is still storing the turn's last details finds no turn to stop, and the turn is never ended a second time.

The window is held open on purpose: the storage server (the real SQLite one, in this test's process) holds
back the last_activity write that follows a session's first turn_completed until the test lets it go."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2, persistence_pb2_grpc
from agent_runtime.rpc.error_interceptor import ErrorInterceptor
from agent_runtime.rpc.server_setup import bind, new_server
from agent_runtime.storage.profiles import ProfileDirectory
from agent_runtime.storage.servicer import PersistenceAdapterServicer
from agent_runtime.storage.sqlite_store import SqliteStore
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import ARGS, Conversation
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles

HELD_TIMEOUT = 30.0


class TurnEndHoldingStorage(PersistenceAdapterServicer):
    """Holds each session's second last_activity write (the one after its first turn_completed) until
    `released` is set; `held` says it is being held."""

    def __init__(self, store: SqliteStore, profiles: ProfileDirectory) -> None:
        super().__init__(store, profiles)
        self._activity_writes: Counter[str] = Counter()
        self.held = asyncio.Event()
        self.released = asyncio.Event()

    async def UpdateSessionRecord(
        self, request: persistence_pb2.UpdateSessionRecordRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> persistence_pb2.UpdateSessionRecordResponse:
        if "last_activity" in request.update_mask.paths:
            self._activity_writes[request.session_id] += 1
            if self._activity_writes[request.session_id] == 2:
                self.held.set()
                await self.released.wait()
        return await super().UpdateSessionRecord(request, context)


@pytest.fixture(scope="module")
async def holding_storage(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[TurnEndHoldingStorage, str]]:
    root = tmp_path_factory.mktemp("holding")
    store = SqliteStore(str(root / "sessions.db"))
    await store.open()
    servicer = TurnEndHoldingStorage(store, ProfileDirectory(make_profiles(root / "profiles")))
    server = new_server([ErrorInterceptor()])
    persistence_pb2_grpc.add_PersistenceAdapterServicer_to_server(servicer, server)
    address = bind(server, "127.0.0.1:0")
    await server.start()
    yield servicer, address
    await server.stop(None)
    await store.close()


@pytest.fixture(scope="module")
async def runtime(
    tmp_path_factory: pytest.TempPathFactory,
    fake_model: FakeAnthropic,
    holding_storage: tuple[TurnEndHoldingStorage, str],
) -> AsyncIterator[Runtime]:
    root = tmp_path_factory.mktemp("turn-end")
    profiles = make_profiles(root / "profiles")
    args = (*ARGS, f"--storage=grpc://{holding_storage[1]}")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, args, env), args, env)
    yield server
    await asyncio.to_thread(server.process.stop)  # its storage is served by this test's event loop


@pytest.fixture
def storage(holding_storage: tuple[TurnEndHoldingStorage, str]) -> Iterator[TurnEndHoldingStorage]:
    servicer = holding_storage[0]
    servicer.held.clear()
    servicer.released.clear()
    yield servicer
    servicer.released.set()  # a failed test never leaves the runtime waiting


async def ended_turns(conversation: Conversation) -> list[tuple[str, str]]:
    """Every turn_completed in the session's log, as (turn id, outcome)."""
    request = api.StreamSessionEventsRequest(session_id=conversation.session_id, follow=False)
    return [
        (response.event.turn_completed.turn_id, events_pb2.TurnOutcome.Name(response.event.turn_completed.outcome))
        async for response in conversation.stub.StreamSessionEvents(request, metadata=AUTH)
        if response.event.HasField("turn_completed")
    ]


async def first_turn_ended_and_held(
    conversation: Conversation, storage: TurnEndHoldingStorage, fake_model: FakeAnthropic
) -> str:
    fake_model.script([Turn.text("Done.")])
    sent = await conversation.send("Say done.")
    completed = await conversation.until_event("turn_completed", sent.turn_id)
    assert completed.turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    await asyncio.wait_for(storage.held.wait(), HELD_TIMEOUT)
    return sent.turn_id


async def test_an_interrupt_after_turn_completed_finds_no_turn(
    conversation: Conversation, storage: TurnEndHoldingStorage, fake_model: FakeAnthropic
) -> None:
    first = await first_turn_ended_and_held(conversation, storage, fake_model)

    interrupted = await conversation.stub.InterruptSession(
        api.InterruptSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert not interrupted.interrupted, "the turn had already ended"
    state = await conversation.stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    assert not state.runtime.turn_running
    storage.released.set()

    fake_model.script([Turn.text("Again.")])
    second = await conversation.send("Once more.")
    await conversation.until_event("turn_completed", second.turn_id)
    assert await ended_turns(conversation) == [
        (first, "TURN_OUTCOME_COMPLETED"),
        (second.turn_id, "TURN_OUTCOME_COMPLETED"),
    ]


async def test_an_unload_after_turn_completed_ends_nothing_twice(
    conversation: Conversation, storage: TurnEndHoldingStorage, fake_model: FakeAnthropic
) -> None:
    first = await first_turn_ended_and_held(conversation, storage, fake_model)

    unloading = asyncio.ensure_future(
        conversation.stub.DeleteSession(api.DeleteSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    )
    await asyncio.sleep(0.5)  # lets the unload reach the session while the write is held
    storage.released.set()
    assert (await unloading).unloaded

    fake_model.script([Turn.text("Still here.")])
    second = await conversation.send("Are you there?")
    await conversation.until_event("turn_completed", second.turn_id)
    assert await ended_turns(conversation) == [
        (first, "TURN_OUTCOME_COMPLETED"),
        (second.turn_id, "TURN_OUTCOME_COMPLETED"),
    ]
