"""A person in the loop through the real `anthropic` SDK: a call the agent's policy asks about idles the
session with requires_action until a user.tool_confirmation, and a custom tool waits for the caller's
user.custom_tool_result."""

from __future__ import annotations

from typing import Any

import anthropic
import grpc
from anthropic.types.beta.sessions import (
    BetaManagedAgentsUserCustomToolResultEventParams,
)

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import AUTH, Runtime
from tests.integration.managed_agents.conftest import say, until_idle
from tests.support.rpc import channel

NOTE = {"file_path": "asked.txt", "content": "allowed\n"}


async def asked_turn(client: anthropic.AsyncAnthropic, agent: str, text: str) -> tuple[str, Any, list[Any]]:
    """Opens a session of `agent`, sends `text`, and reads until the first idle: (session id, stream, events)."""
    session = await client.beta.sessions.create(
        agent=agent, environment_id="default", metadata={"architecture": "anthropic"}
    )
    stream = await client.beta.sessions.events.stream(session.id)
    await say(client, session.id, text)
    return session.id, stream, await until_idle(stream)


async def workspace_file(runtime: Runtime, session_id: str, path: str) -> bytes | None:
    """The file's content in storage, through the gRPC API; None when there is no such file."""
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        request = api.GetWorkspaceFileRequest(session_id=session_id, path=path)
        try:
            return bytes((await stub.GetWorkspaceFile(request, metadata=AUTH)).content)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND, error
            return None


async def test_an_asked_call_waits_for_a_confirmation_and_runs_when_allowed(
    client: anthropic.AsyncAnthropic, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.tool_use("Write", NOTE), Turn.text("Done.")])
    session_id, stream, seen = await asked_turn(client, "asking", "write it")
    used, idle = seen[-2], seen[-1]
    assert used.type == "agent.tool_use" and used.name == "Write"
    assert idle.stop_reason.type == "requires_action" and idle.stop_reason.event_ids == [used.id]
    assert (await client.beta.sessions.retrieve(session_id)).status == "idle"
    assert await workspace_file(runtime, session_id, "asked.txt") is None, "nothing runs before the answer"

    await client.beta.sessions.events.send(
        session_id, events=[{"type": "user.tool_confirmation", "tool_use_id": used.id, "result": "allow"}]
    )
    after = await until_idle(stream)
    await stream.close()
    assert [e.type for e in after] == [
        "session.status_running",
        "agent.tool_result",
        "agent.message",
        "session.status_idle",
    ]
    assert not after[1].is_error and after[-1].stop_reason.type == "end_turn"
    assert await workspace_file(runtime, session_id, "asked.txt") == b"allowed\n"


async def test_a_denied_call_does_not_run_and_the_agent_is_told_why(
    client: anthropic.AsyncAnthropic, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.tool_use("Write", NOTE), Turn.text("Understood.")])
    session_id, stream, seen = await asked_turn(client, "asking", "write it")
    denial = {
        "type": "user.tool_confirmation",
        "tool_use_id": seen[-2].id,
        "result": "deny",
        "deny_message": "not today",
    }
    await client.beta.sessions.events.send(session_id, events=[denial])  # type: ignore[list-item]
    after = await until_idle(stream)
    await stream.close()
    result = next(e for e in after if e.type == "agent.tool_result")
    assert result.is_error and "not today" in result.content[0].text
    assert await workspace_file(runtime, session_id, "asked.txt") is None


async def test_a_custom_tool_is_answered_with_a_custom_tool_result(
    client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.tool_use("get_weather", {"city": "Paris"}), Turn.text("Sunny.")])
    session_id, stream, seen = await asked_turn(client, "weather", "weather in Paris?")
    called, idle = seen[-2], seen[-1]
    assert (called.type, called.name, called.input) == ("agent.custom_tool_use", "get_weather", {"city": "Paris"})
    assert "agent.tool_use" not in [e.type for e in seen], "the custom tool use stands for the call"
    assert idle.stop_reason.event_ids == [called.id]

    answer: BetaManagedAgentsUserCustomToolResultEventParams = {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": called.id,
        "content": [{"type": "text", "text": "22C"}],
    }
    await client.beta.sessions.events.send(session_id, events=[answer])
    after = await until_idle(stream)
    await stream.close()
    assert [e.content[0].text for e in after if e.type == "agent.tool_result"] == ["22C"]
    assert after[-1].stop_reason.type == "end_turn"
    assert [e.content[0].text for e in after if e.type == "agent.message"] == ["Sunny."]


async def test_a_confirmation_for_a_call_nobody_asked_about_is_not_found(client: anthropic.AsyncAnthropic) -> None:
    session = await client.beta.sessions.create(
        agent="asking", environment_id="default", metadata={"architecture": "anthropic"}
    )
    try:
        await client.beta.sessions.events.send(
            session.id, events=[{"type": "user.tool_confirmation", "tool_use_id": "toolu_nobody", "result": "allow"}]
        )
    except anthropic.NotFoundError as error:
        assert error.body["error"]["details"]["error_code"] == "approval_not_found"  # type: ignore[index]
    else:
        raise AssertionError("a confirmation of nothing was taken")
