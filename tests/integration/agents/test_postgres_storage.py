"""PostgreSQL storage end to end: a whole session on it, through restarts and dropped connections."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation, completed_blocks, open_conversation
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles
from tests.support import postgres
from tests.support.rpc import channel


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with postgres.fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic, database: str) -> Iterator[Runtime]:
    """A runtime whose embedded storage is the PostgreSQL database."""
    root = tmp_path_factory.mktemp("postgres-runtime")
    profiles = make_profiles(root / "profiles")
    args = (f"--storage={database}", "--heartbeat-interval=0.5s")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, args, env), args, env)
    yield server
    server.process.stop()


def drop_connections(database: str) -> int:
    """Ends every connection to the database (as a failover or a restarted server would); how many."""
    name = database.rsplit("/", 1)[-1]
    ended = subprocess.run(
        ["psql", postgres.ADMIN_URL, "-Atc",
         f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}'"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(ended.stdout.strip())


async def test_a_session_runs_on_postgres_and_survives_a_restart(
    fake_model: FakeAnthropic, runtime: Runtime, database: str
) -> None:
    async with channel(runtime.address) as open_channel:
        conversation = await open_conversation(agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel), "anthropic")
        fake_model.script([Turn.tool_use("Write", {"file_path": "kept.txt", "content": "kept\n"}), Turn.text("Saved.")])
        await conversation.send("Save something.")
        first = await conversation.until_turn_completed()
    assert first[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED, first[-1].turn_completed.message

    runtime.restart()
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
        replayed = Conversation(stub, conversation.session_id)
        events = await replayed.until_turn_completed()
    assert [f.path for f in session.workspace_files] == ["kept.txt"]
    assert [b.WhichOneof("kind") for b in session.blocks] == [
        "user_message", "tool_use", "tool_result", "assistant_text"
    ]  # fmt: skip
    assert [e.sequence for e in events] == [e.sequence for e in first], "the event log, replayed from Postgres"


async def test_database_connections_dropped_between_turns_lose_nothing(
    fake_model: FakeAnthropic, runtime: Runtime, database: str
) -> None:
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        conversation = await open_conversation(stub, "anthropic")
        assert drop_connections(database) > 0, "the storage server's pooled connections"
        fake_model.script([Turn.tool_use("Bash", {"command": "echo one > one.txt"}), Turn.text("One.")])
        await conversation.send("First.")
        first = await conversation.until_turn_completed()
        drop_connections(database)
        fake_model.script([Turn.text("Two.")])
        await conversation.send("Second.")
        second = await conversation.until_turn_completed()
        drop_connections(database)
        session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    assert [e[-1].turn_completed.outcome for e in (first, second)] == [events_pb2.TURN_OUTCOME_COMPLETED] * 2
    assert [b.assistant_text.content for b in completed_blocks(first + second, "assistant_text")] == ["One.", "Two."]
    assert [f.path for f in session.workspace_files] == ["one.txt"]
    assert [b.assistant_text.content for b in session.blocks if b.HasField("assistant_text")] == ["One.", "Two."]


def test_the_storage_server_refuses_a_database_from_a_newer_build(tmp_path: Path) -> None:
    with postgres.fresh_database() as url:
        subprocess.run(
            [
                "psql",
                url,
                "-qc",
                "CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (99)",
            ],
            check=True,
        )
        with pytest.raises(RuntimeError, match="schema version 99"):
            launch(tmp_path / "data", make_profiles(tmp_path / "profiles"), (f"--storage={url}",))
