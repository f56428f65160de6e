"""A model API that refuses the runtime's key fails a CLI's turn at once, with words that name the key to
check, rather than the CLI retrying what cannot succeed for minutes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from agent_runtime._gen.agentruntime.v1 import events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import open_conversation
from tests.integration.conftest import Runtime, launch, make_profiles

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

ARGS = ("--heartbeat-interval=0.5s",)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("refused-key")
    profiles = make_profiles(root / "profiles")
    env = {"ANTHROPIC_API_KEY": "sk-ant-wrong-key", "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS, env), ARGS, env)
    yield server
    server.process.stop()


async def test_a_refused_key_fails_a_claude_code_turn_at_once(stub: Stub, fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.text("never given")])
    conversation = await open_conversation(stub, "claude-agent-sdk")
    seen = len(fake_model.message_requests())

    await conversation.send("hello")
    events = await conversation.until_turn_completed()

    ended = events[-1].turn_completed
    assert ended.outcome == events_pb2.TURN_OUTCOME_FAILED
    assert "refused the runtime's key (401" in ended.message and "ANTHROPIC_API_KEY" in ended.message, ended.message
    assert len(fake_model.message_requests()) - seen == 1, "no retry of a refused key"
    fake_model.discard()
