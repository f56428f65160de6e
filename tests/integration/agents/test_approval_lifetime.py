"""What waits for a caller does not wait for ever: an approval nobody answers is denied at --input-timeout,
and one a dead runtime waited for is closed with its turn when the session is next loaded."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.fakes.gemini import FakeGemini
from tests.integration.agents.asking import (
    ASK,
    Agent,
    conversation,
    gated_agent,  # noqa: F401 (the `agent` fixture)
    respond,
    stored,
    until_asked,
)
from tests.integration.agents.conftest import Conversation, model_environment
from tests.integration.agents.test_approvals import last_tool_result
from tests.integration.conftest import API_KEY, Runtime, launch, make_profiles, rpc_error
from tests.support import processes
from tests.support.rpc import assert_error, channel

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

ARGS = ("--heartbeat-interval=0.5s", "--input-timeout=1s")


@pytest.fixture(scope="module")
def runtime(
    tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic, fake_gemini: FakeGemini
) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("approvals")
    profiles = make_profiles(root / "profiles")
    env = model_environment(fake_model, fake_gemini)
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS, env), ARGS, env)
    yield server
    server.process.stop()


@pytest.fixture
async def conversation_stub(stub: Stub) -> Conversation:
    return await conversation(stub, ("Write", ASK))


async def test_an_approval_nobody_answers_is_denied_when_its_time_is_up(stub: Stub, agent: Agent) -> None:
    talk = await conversation(stub, ("Write", ASK), architecture=agent.architecture)
    agent.script(("Write", {"file_path": "/workspace/late.txt", "content": "x"}), "No answer.")
    await talk.send("Write late.txt.")
    asked = (await until_asked(talk)).approval_requested
    assert asked.HasField("expires_at")
    events = await talk.until_turn_completed()
    resolved = next(e.approval_resolved for e in events if e.HasField("approval_resolved"))
    assert (resolved.decision, resolved.answered_by) == (events_pb2.APPROVAL_DECISION_DENY, "timeout")
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    refusal, is_error = agent.last_result()
    assert is_error and "no answer came within 1s" in refusal
    assert await stored(talk, "late.txt") is None
    late = await rpc_error(respond(talk, asked.approval_id))
    assert_error(late, grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_CLOSED")


async def test_what_a_dead_runtime_waited_for_is_closed_with_its_turn(
    runtime: Runtime, stub: Stub, agent: Agent
) -> None:
    talk = await conversation(stub, ("Write", ASK), architecture=agent.architecture)
    agent.script(("Write", {"file_path": "/workspace/dead.txt", "content": "x"}))
    await talk.send("Write dead.txt.")
    asked = (await until_asked(talk)).approval_requested
    runtime.process.stop(signal.SIGKILL)
    runtime.process = await asyncio.to_thread(launch, runtime.data_dir, runtime.profiles_dir, ARGS, runtime.env)
    async with channel(runtime.address) as open_channel:
        talk.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        events = await talk.until_turn_completed()
        resolved = next(e.approval_resolved for e in events if e.HasField("approval_resolved"))
        assert (resolved.approval_id, resolved.answered_by) == (asked.approval_id, "runtime stopped")
        assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_INTERRUPTED
        late = await rpc_error(respond(talk, asked.approval_id))
        assert_error(late, grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_CLOSED")


async def test_an_approval_is_answered_from_the_terminal(
    runtime: Runtime, conversation_stub: Conversation, fake_model: FakeAnthropic
) -> None:
    talk = conversation_stub
    fake_model.script([Turn.tool_use("Write", {"file_path": "cli.txt", "content": "x"}), Turn.text("Refused.")])
    await talk.send("Write cli.txt.")
    asked = (await until_asked(talk)).approval_requested
    env = {**os.environ, "AGENT_RUNTIME_GRPC_ADDRESS": runtime.address, "AGENT_RUNTIME_API_KEY": API_KEY}
    command = [processes.CLI, "sessions", "approve", talk.session_id, asked.approval_id, "--deny", "--message", "no"]
    answered = await asyncio.to_thread(subprocess.run, [*command, "--json"], capture_output=True, text=True, env=env)
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["resolution"]["decision"] == "APPROVAL_DECISION_DENY"
    await talk.until_turn_completed()
    assert last_tool_result(fake_model)["content"].endswith(": no")
