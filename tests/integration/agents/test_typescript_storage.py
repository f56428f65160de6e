"""The TypeScript storage server (clients/typescript/storage): a whole session of the runtime on it, through
restarts of the runtime and of the storage server, and what it keeps when it is killed mid-write."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import (
    agent_runtime_pb2_grpc,
    events_pb2,
    persistence_pb2,
    persistence_pb2_grpc,
    session_pb2,
)
from tests.conformance.helpers import create_session, stored_files, text_events
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation, completed_blocks, open_conversation
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles
from tests.support import processes, typescript_storage
from tests.support.rpc import channel

COMPLETED = events_pb2.TURN_OUTCOME_COMPLETED


@dataclass
class TypeScriptStorage:
    """The TypeScript server on its journal, always on the same address so the runtime finds it again."""

    journal: Path
    profiles_dir: Path
    address: str
    process: processes.ChildProcess

    def restart(self) -> int:
        """Stops it (its exit code is returned) and starts it again on the same journal."""
        code = self.process.stop()
        self.process = typescript_storage.start(self.journal, self.profiles_dir, self.address)
        return code


def start_storage(root: Path) -> TypeScriptStorage:
    profiles = make_profiles(root / "profiles")
    address = f"127.0.0.1:{processes.free_port()}"
    return TypeScriptStorage(
        root / "journal.jsonl", profiles, address, typescript_storage.start(root / "journal.jsonl", profiles, address)
    )


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TypeScriptStorage]:
    server = start_storage(tmp_path_factory.mktemp("typescript-storage"))
    yield server
    server.process.stop()


@pytest.fixture(scope="module")
def runtime(
    tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic, storage: TypeScriptStorage
) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("typescript-runtime")
    args = (f"--storage=grpc://{storage.address}", "--heartbeat-interval=0.5s")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(
        root / "data", storage.profiles_dir, launch(root / "data", storage.profiles_dir, args, env), args, env
    )
    yield server
    server.process.stop()


async def session_and_events(
    runtime: Runtime, session_id: str
) -> tuple[session_pb2.Session, list[events_pb2.SessionEvent]]:
    """The session as GetSession shows it, and its events up to the first turn's end, from a fresh channel."""
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        session = await stub.GetSession(api.GetSessionRequest(session_id=session_id), metadata=AUTH)
        events = await Conversation(stub, session_id).until_turn_completed()
    return session, events


def block_kinds(session: session_pb2.Session) -> list[str]:
    return [block.WhichOneof("kind") or "" for block in session.blocks]


async def test_a_session_runs_on_typescript_storage_and_survives_restarts_of_both(
    fake_model: FakeAnthropic, runtime: Runtime, storage: TypeScriptStorage
) -> None:
    fake_model.script(
        [Turn.tool_use("Write", {"file_path": "kept.txt", "content": "kept\n"}), Turn.text("Saved it for you.")]
    )
    async with channel(runtime.address) as open_channel:
        conversation = await open_conversation(agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel), "anthropic")
        await conversation.send("Save something.")
        streamed = await conversation.until_turn_completed()
    assert streamed[-1].turn_completed.outcome == COMPLETED, streamed[-1].turn_completed.message
    answer = completed_blocks(streamed, "assistant_text")[0]
    deltas = [
        e.block_delta.delta for e in streamed if e.HasField("block_delta") and e.block_delta.block_id == answer.id
    ]
    assert len(deltas) > 1 and "".join(deltas) == "Saved it for you.", "the answer was streamed in pieces"
    session, _ = await session_and_events(runtime, conversation.session_id)
    assert block_kinds(session) == ["user_message", "tool_use", "tool_result", "assistant_text"]
    assert session.blocks[3].assistant_text.content == "Saved it for you."
    assert [f.path for f in session.workspace_files] == ["kept.txt"]

    runtime.restart()  # the session now comes from the TypeScript server alone
    after_restart, replayed = await session_and_events(runtime, conversation.session_id)
    assert after_restart.blocks == session.blocks
    assert replayed == streamed, "the event log, as stored"

    runtime.process.stop()
    assert storage.restart() == 0, f"the TypeScript server did not stop cleanly:\n{storage.process.text()}"
    async with channel(storage.address) as open_channel:  # what the restarted server read from its journal
        adapter = persistence_pb2_grpc.PersistenceAdapterStub(open_channel)
        stored = await adapter.LoadSession(persistence_pb2.LoadSessionRequest(session_id=conversation.session_id))
        log = await adapter.ReadEvents(persistence_pb2.ReadEventsRequest(session_id=conversation.session_id))
        files = await stored_files(adapter, conversation.session_id)
    assert [(path, f.content) for path, f in files.items()] == [("kept.txt", b"kept\n")]
    assert "Saved it for you." in stored.raw_transcript
    assert list(log.events)[: len(streamed)] == streamed

    runtime.process = launch(runtime.data_dir, runtime.profiles_dir, runtime.extra_args, runtime.env)
    after_both, replayed = await session_and_events(runtime, conversation.session_id)
    assert after_both.blocks == session.blocks
    assert replayed == streamed
    fake_model.script([Turn.text("Still here.")])
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        await conversation.send("Are you there?")
        second = await conversation.until_turn_completed()
    assert second[-1].turn_completed.outcome == COMPLETED, second[-1].turn_completed.message
    history = fake_model.message_requests()[-1].messages
    assert [m["content"] for m in history if m["role"] == "user"][-1] == "Are you there?"
    assert "Save something." in str(history), "the model saw the first turn, read back from the journal"


async def test_a_killed_server_keeps_every_acknowledged_write_and_drops_a_torn_line(tmp_path: Path) -> None:
    storage = start_storage(tmp_path)
    try:
        async with channel(storage.address) as open_channel:
            adapter = persistence_pb2_grpc.PersistenceAdapterStub(open_channel)
            record = await create_session(adapter)
            session_id = record.session_id
            await adapter.AppendEvents(
                persistence_pb2.AppendEventsRequest(
                    session_id=session_id, expected_last_sequence=0, events=text_events(session_id, 1, 3)
                )
            )
            await adapter.SaveTranscript(
                persistence_pb2.SaveTranscriptRequest(session_id=session_id, raw_transcript="t")
            )

        storage.process.stop(signal.SIGKILL)  # no chance to flush anything on the way out
        with storage.journal.open("a") as journal:
            journal.write('{"op":"append","sessionId":"' + session_id)  # a write the crash cut short
        storage.process = typescript_storage.start(storage.journal, storage.profiles_dir, storage.address)

        async with channel(storage.address) as open_channel:
            adapter = persistence_pb2_grpc.PersistenceAdapterStub(open_channel)
            loaded = await adapter.LoadSession(persistence_pb2.LoadSessionRequest(session_id=session_id))
            log = await adapter.ReadEvents(persistence_pb2.ReadEventsRequest(session_id=session_id))
            appended = await adapter.AppendEvents(
                persistence_pb2.AppendEventsRequest(
                    session_id=session_id, expected_last_sequence=3, events=text_events(session_id, 4, 1)
                )
            )
        assert (loaded.session, loaded.raw_transcript) == (record, "t")
        assert list(log.events) == text_events(session_id, 1, 3)
        assert appended.last_sequence == 4, "the log goes on after the torn line"

        assert storage.restart() == 0
        async with channel(storage.address) as open_channel:
            adapter = persistence_pb2_grpc.PersistenceAdapterStub(open_channel)
            log = await adapter.ReadEvents(persistence_pb2.ReadEventsRequest(session_id=session_id))
        assert list(log.events) == text_events(session_id, 1, 4)
    finally:
        storage.process.stop()
