"""A loaded session over time: sync on demand, a sandbox that dies, idleness, and the runtime stopping."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles
from tests.support.rpc import channel

ARGS = ("--heartbeat-interval=0.5s", "--idle-timeout=4s", "--sync-interval=1s", "--shutdown-grace=20s")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("lifecycle")
    profiles = make_profiles(root / "profiles")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS, env), ARGS, env)
    yield server
    server.process.stop()


def kill_sandbox(runtime: Runtime, sandbox_id: str) -> None:
    """SIGKILL to every process working in the sandbox's workspace, which is a filesystem of its own."""
    device = os.stat(runtime.data_dir / "sandboxes" / sandbox_id / "workspace").st_dev
    killed = 0
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        with contextlib.suppress(OSError):
            if cwd.stat().st_dev == device:
                os.kill(int(cwd.parent.name), signal.SIGKILL)
                killed += 1
    assert killed, f"no process of {sandbox_id} found"


async def statuses_until(conversation: Conversation, wanted: str) -> list[events_pb2.StatusChange]:
    """Status events from the cursor on, until one whose message starts with `wanted`."""
    request = api.StreamSessionEventsRequest(
        session_id=conversation.session_id, after_sequence=conversation.cursor, follow=True
    )
    stream = conversation.stub.StreamSessionEvents(request, metadata=AUTH)
    seen = []
    async for response in stream:
        if response.HasField("event"):
            conversation.cursor = response.event.sequence
            if response.event.HasField("status"):
                seen.append(response.event.status)
                if response.event.status.message.startswith(wanted):
                    break
    stream.cancel()
    return seen


async def test_sync_saves_what_a_background_process_wrote(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    never_loaded = await conversation.stub.SyncSession(
        api.SyncSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert never_loaded.synced_at.seconds > 0 and never_loaded.files_saved == 0

    fake_model.script(
        [
            Turn.tool_use("Bash", {"command": "(sleep 1; echo late > late.txt) > /dev/null 2>&1 &"}),
            Turn.text("Started."),
        ]
    )
    await conversation.send("Start something in the background.")
    await conversation.until_turn_completed()
    await asyncio.sleep(1.5)
    await conversation.stub.SyncSession(api.SyncSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    stored = await conversation.stub.GetWorkspaceFile(
        api.GetWorkspaceFileRequest(session_id=conversation.session_id, path="late.txt"), metadata=AUTH
    )
    assert stored.content == b"late\n"


async def test_a_dead_sandbox_is_noticed_and_replaced(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script(
        [Turn.tool_use("Write", {"file_path": "survives.txt", "content": "yes\n"}), Turn.text("Written.")]
    )
    await conversation.send("Write a file.")
    await conversation.until_turn_completed()
    session = await conversation.stub.GetSession(
        api.GetSessionRequest(session_id=conversation.session_id, view=session_pb2.SESSION_VIEW_BASIC), metadata=AUTH
    )
    sandbox_id = session.runtime.sandbox.sandbox_id
    assert session.runtime.loaded and session.runtime.sandbox.status == session_pb2.SANDBOX_STATUS_READY

    kill_sandbox(runtime, sandbox_id)  # the sandbox dies under the session
    noticed = await asyncio.wait_for(statuses_until(conversation, "The sandbox stopped"), 30)
    assert noticed[-1].runtime.sandbox.status == session_pb2.SANDBOX_STATUS_TERMINATED

    fake_model.script([Turn.tool_use("Bash", {"command": "cat survives.txt"}), Turn.text("Still here.")])
    await conversation.send("Is the file still there?")
    events = await conversation.until_turn_completed()
    results = [
        e.block_complete.block.tool_result
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("tool_result")
    ]
    assert results[0].output.string_value == "yes\n"
    ready = [e.status.runtime.sandbox for e in events if e.HasField("status") and e.status.message == "Ready"]
    assert ready[0].restart_count == 1 and ready[0].sandbox_id != sandbox_id


async def test_an_idle_session_is_unloaded_and_comes_back(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.text("Hello.")])
    await conversation.send("Hello.")
    await conversation.until_turn_completed()
    unloaded = await asyncio.wait_for(statuses_until(conversation, "Unloaded"), 30)
    assert not unloaded[-1].runtime.loaded
    session = await conversation.stub.GetSession(
        api.GetSessionRequest(session_id=conversation.session_id, view=session_pb2.SESSION_VIEW_BASIC), metadata=AUTH
    )
    assert not session.runtime.loaded

    fake_model.script([Turn.text("Back.")])
    await conversation.send("Are you back?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    assert fake_model.message_requests()[-1].messages[0]["content"] == "Hello.", "the conversation came back"


async def test_stopping_the_runtime_lets_a_running_turn_finish(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 2; echo slept"}), Turn.text("Done sleeping.")])
    await conversation.send("Sleep a little.")
    await asyncio.sleep(0.5)  # the turn is under way
    assert runtime.process.stop(signal.SIGTERM) == 0
    runtime.process = launch(runtime.data_dir, runtime.profiles_dir, runtime.extra_args, runtime.env)
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    answers = [
        e.block_complete.block.assistant_text.content
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("assistant_text")
    ]
    assert answers == ["Done sleeping."]
