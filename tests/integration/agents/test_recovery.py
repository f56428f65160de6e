"""Nothing is lost when the runtime is killed mid-turn or its storage goes away mid-turn."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation, digest
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles
from tests.integration.test_storage_outage import start_storage, wait_for_health
from tests.support import processes
from tests.support.rpc import channel


async def wait_for_process(marker: str, present: bool) -> None:
    for _ in range(300):
        found = bool(subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout)
        if found == present:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{marker!r} {'never started' if present else 'never ended'}")


def dense_from(events: list[events_pb2.SessionEvent], first: int) -> bool:
    return [e.sequence for e in events] == list(range(first, first + len(events)))


async def test_a_runtime_killed_mid_turn_loses_nothing_and_the_session_goes_on(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.text("First answer.")])
    await conversation.send("A first message.")
    await conversation.until_turn_completed()

    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3232"})])
    await conversation.send("Wait for a long time.")
    await wait_for_process("sleep 3232", present=True)
    seen_before_kill = conversation.cursor

    runtime.process.stop(signal.SIGKILL)
    await wait_for_process("sleep 3232", present=False)  # the sandbox died with the runtime
    runtime.process = launch(runtime.data_dir, runtime.profiles_dir, runtime.extra_args, runtime.env)

    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        events = await conversation.until_turn_completed()
        assert dense_from(events, seen_before_kill + 1), "resumed from the cursor with no gap"
        assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_INTERRUPTED
        assert "runtime stopped" in events[-1].turn_completed.message

        fake_model.script([Turn.text("Here again.")])
        await conversation.send("Are you there?")
        after = await conversation.until_turn_completed()
        assert after[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
        history = fake_model.message_requests()[-1].messages
        assert [m["content"] for m in history if m["role"] == "user"] == ["A first message.", "Are you there?"]


@pytest.fixture(scope="module")
def storage_port() -> int:
    return processes.free_port()


@pytest.fixture(scope="module")
def external_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outage")
    make_profiles(root / "profiles")
    return root


@pytest.fixture(scope="module")
def storage(external_root: Path, storage_port: int) -> Iterator[list[processes.ChildProcess]]:
    running = [start_storage(external_root, storage_port)]
    yield running
    running[-1].stop()


@pytest.fixture(scope="module")
def runtime(  # the storage outage test's own runtime, on the external storage
    external_root: Path, storage_port: int, storage: list[processes.ChildProcess], fake_model: FakeAnthropic
) -> Iterator[Runtime]:
    args = ("--heartbeat-interval=0.5s", f"--storage=grpc://127.0.0.1:{storage_port}", "--sync-interval=1s")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    data = external_root / "runtime-data"
    server = Runtime(data, external_root / "profiles", launch(data, external_root / "profiles", args, env), args, env)
    yield server
    server.process.stop()


async def test_storage_going_away_mid_turn_loses_nothing(
    conversation: Conversation,
    fake_model: FakeAnthropic,
    runtime: Runtime,
    storage: list[processes.ChildProcess],
    external_root: Path,
    storage_port: int,
) -> None:
    fake_model.script(
        [Turn.tool_use("Bash", {"command": "sleep 2; echo kept > during.txt; echo written"}), Turn.text("Written.")]
    )
    await conversation.send("Write while storage is away.")
    await wait_for_process("sleep 2; echo kept", present=True)
    storage[-1].stop(signal.SIGKILL)
    await wait_for_health(runtime.address, health_pb2.HealthCheckResponse.NOT_SERVING)
    await asyncio.sleep(3)  # the command finishes and the model answers while storage is away
    storage.append(start_storage(external_root, storage_port))
    await wait_for_health(runtime.address, health_pb2.HealthCheckResponse.SERVING)

    events = await asyncio.wait_for(conversation.until_turn_completed(), 60)
    assert dense_from(events, 1)
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    assert ("during.txt", digest(b"kept\n")) in [
        (e.file_created.file.path, e.file_created.file.sha256) for e in events if e.HasField("file_created")
    ]
    stored = await conversation.stub.GetWorkspaceFile(
        api.GetWorkspaceFileRequest(session_id=conversation.session_id, path="during.txt"), metadata=AUTH
    )
    assert stored.content == b"kept\n"
    session = await conversation.stub.GetSession(
        api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert [b.WhichOneof("kind") for b in session.blocks][-1] == "assistant_text", "the transcript was saved"


async def test_a_message_sent_while_storage_goes_away_is_refused_or_runs_never_accepted_and_lost(
    conversation: Conversation,
    fake_model: FakeAnthropic,
    runtime: Runtime,
    storage: list[processes.ChildProcess],
    external_root: Path,
    storage_port: int,
) -> None:
    fake_model.script([Turn.text("Loaded.")])
    await conversation.send("Load the session.")
    await conversation.until_turn_completed()
    fake_model.script([Turn.text("Taken.")] * 30)

    answers: dict[str, str] = {}  # content -> the turn id, or the status code's name

    async def keep_sending() -> None:
        for n in range(12):
            content = f"Message {n}."
            try:
                answers[content] = (await conversation.send(content, timeout=30)).turn_id
            except grpc.aio.AioRpcError as error:
                answers[content] = error.code().name
            await asyncio.sleep(0.2)

    sending = asyncio.create_task(keep_sending())
    await asyncio.sleep(0.5)
    storage[-1].stop(signal.SIGKILL)
    await asyncio.sleep(6)  # longer than SendMessage waits for storage to take a message
    storage.append(start_storage(external_root, storage_port))
    await sending

    taken = {content: turn for content, turn in answers.items() if turn.startswith("turn-")}
    refused = {content: code for content, code in answers.items() if content not in taken}
    assert refused and set(refused.values()) == {"UNAVAILABLE"}, answers
    assert taken, answers
    await asyncio.wait_for(conversation.until_turns_ended(list(taken.values())), 60)
    fake_model.discard()  # the answers of the refused messages
    request = api.StreamSessionEventsRequest(session_id=conversation.session_id, follow=False)
    events = [r.event async for r in conversation.stub.StreamSessionEvents(request, metadata=AUTH)]
    assert dense_from(events, 1)
    accepted = {
        e.message_accepted.user_message.user_message.content: e.message_accepted.turn_id
        for e in events
        if e.HasField("message_accepted")
    }
    started = {e.turn_started.turn_id for e in events if e.HasField("turn_started")}
    outcomes = {e.turn_completed.turn_id: e.turn_completed.outcome for e in events if e.HasField("turn_completed")}
    assert {content: accepted.get(content) for content in taken} == taken, "every message taken was stored"
    assert all(outcomes[turn] == events_pb2.TURN_OUTCOME_COMPLETED for turn in taken.values()), "and ran"
    for content in refused.keys() & accepted.keys():  # storage took it, but its answer came too late
        turn = accepted[content]
        assert turn not in started and outcomes[turn] == events_pb2.TURN_OUTCOME_CANCELLED, content
