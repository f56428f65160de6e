"""The real `anthropic` SDK drives a session through the Managed Agents API: create, send, stream until
idle, list every page, and the errors it raises on its own exception classes."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import AUTH, Runtime
from tests.integration.managed_agents.conftest import say, sdk_client, until_idle
from tests.support.rpc import channel

NOTE = {"file_path": "notes/hello.txt", "content": "hi there\n"}


async def new_session(client: anthropic.AsyncAnthropic, title: str = "a test") -> Any:
    return await client.beta.sessions.create(
        agent="default", environment_id="default", title=title, metadata={"architecture": "anthropic", "team": "qa"}
    )


async def turn(client: anthropic.AsyncAnthropic, session_id: str, text: str) -> list[Any]:
    """Sends a message and reads the session's stream until it is idle again."""
    stream = await client.beta.sessions.events.stream(session_id)
    await say(client, session_id, text)
    seen = await until_idle(stream)
    await stream.close()
    return seen


async def test_a_turn_streams_until_idle_with_its_message_tool_use_and_result(
    client: anthropic.AsyncAnthropic, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.tool_use("Write", NOTE), Turn.text("Written.")])
    session = await new_session(client)
    assert (session.status, session.agent.id, session.environment_id) == ("idle", "default", "default")

    seen = await turn(client, session.id, "Write a note")

    assert [e.type for e in seen] == [
        "user.message",
        "session.status_running",
        "agent.tool_use",
        "agent.tool_result",
        "agent.message",
        "session.status_idle",
    ]
    sent, _, used, result, said, idle = seen
    assert sent.content[0].text == "Write a note"
    assert (used.name, used.input) == ("Write", NOTE)
    assert result.tool_use_id == used.id and not result.is_error
    assert said.content[0].text == "Written."
    assert idle.stop_reason.type == "end_turn"
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        written = await stub.GetWorkspaceFile(
            api.GetWorkspaceFileRequest(session_id=session.id, path="notes/hello.txt"), metadata=AUTH
        )
    assert written.content == b"hi there\n"


async def test_the_events_listed_page_by_page_are_the_streamed_ones(
    client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.text("One."), Turn.text("Two.")])
    session = await new_session(client)
    streamed = await turn(client, session.id, "first") + await turn(client, session.id, "second")

    listed = [event async for event in client.beta.sessions.events.list(session.id, limit=2)]
    assert [(e.id, e.type) for e in listed] == [(e.id, e.type) for e in streamed]
    newest_first = [event.id async for event in client.beta.sessions.events.list(session.id, limit=3, order="desc")]
    assert newest_first == [e.id for e in reversed(streamed)]
    messages: list[Any] = [e async for e in client.beta.sessions.events.list(session.id, types=["agent.message"])]
    assert [m.content[0].text for m in messages] == ["One.", "Two."]


async def test_a_stream_that_asks_for_deltas_gets_the_message_as_it_is_written(
    client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.text("Streamed in pieces.")])
    session = await new_session(client)
    stream = await client.beta.sessions.events.stream(session.id, event_deltas=["agent.message"])
    await say(client, session.id, "go")
    seen = await until_idle(stream)
    await stream.close()
    started = next(e for e in seen if e.type == "event_start")
    pieces = [e.delta.content.text for e in seen if e.type == "event_delta"]
    said = next(e for e in seen if e.type == "agent.message")
    assert len(pieces) > 1 and "".join(pieces) == said.content[0].text == "Streamed in pieces."
    assert started.event.id == said.id and all(e.event_id == said.id for e in seen if e.type == "event_delta")
    listed = [event.type async for event in client.beta.sessions.events.list(session.id)]
    assert "event_delta" not in listed and "agent.message" in listed


async def test_the_grpc_api_and_the_managed_agents_api_show_the_same_conversation(
    client: anthropic.AsyncAnthropic, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.text("The same.")])
    session = await new_session(client)
    await turn(client, session.id, "Say it")
    listed: list[Any] = [event async for event in client.beta.sessions.events.list(session.id)]
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        full = await stub.GetSession(
            api.GetSessionRequest(session_id=session.id, view=session_pb2.SESSION_VIEW_FULL), metadata=AUTH
        )
    ours = [(b.WhichOneof("kind"), b.user_message.content or b.assistant_text.content) for b in full.blocks]
    theirs = [(e.type, e.content[0].text) for e in listed if e.type in ("user.message", "agent.message")]
    assert ours == [("user_message", "Say it"), ("assistant_text", "The same.")]
    assert theirs == [("user.message", "Say it"), ("agent.message", "The same.")]


async def test_sessions_are_retrieved_listed_and_deleted(client: anthropic.AsyncAnthropic) -> None:
    session = await new_session(client, title="kept for a moment")
    got = await client.beta.sessions.retrieve(session.id)
    assert (got.id, got.title, got.status) == (session.id, "kept for a moment", "idle")
    assert got.metadata == {"team": "qa", "architecture": "anthropic"}
    listed = [s.id async for s in client.beta.sessions.list(limit=2)]
    assert session.id in listed
    renamed = await client.beta.sessions.update(session.id, title="renamed", metadata={"team": None, "shift": "night"})
    assert (renamed.title, renamed.metadata) == ("renamed", {"shift": "night", "architecture": "anthropic"})
    assert (await client.beta.sessions.retrieve(session.id)).title == "renamed"
    with pytest.raises(anthropic.BadRequestError):
        await client.beta.sessions.update(session.id, vault_ids=["vlt_1"])

    deleted = await client.beta.sessions.delete(session.id)
    assert (deleted.id, deleted.type) == (session.id, "session_deleted")
    with pytest.raises(anthropic.NotFoundError) as missing:
        await client.beta.sessions.retrieve(session.id)
    assert missing.value.body["error"]["details"]["error_code"] == "session_not_found"  # type: ignore[index]


async def test_the_agents_are_the_profiles_and_the_environment_is_the_runtimes_sandbox(
    client: anthropic.AsyncAnthropic,
) -> None:
    agents = [agent async for agent in client.beta.agents.list()]
    assert {"default", "with-files"} <= {agent.id for agent in agents}
    agent = await client.beta.agents.retrieve("default")
    assert (agent.type, agent.version) == ("agent", 1)
    environments = [environment async for environment in client.beta.environments.list()]
    assert [environment.id for environment in environments] == ["default"]


async def test_an_interrupt_ends_the_running_turn(client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3141"})])
    session = await new_session(client)
    stream = await client.beta.sessions.events.stream(session.id)
    await say(client, session.id, "wait")
    seen = []
    async for event in stream:
        seen.append(event.type)
        if event.type == "agent.tool_use":  # the sleep has begun: the scripted answer was taken
            await client.beta.sessions.events.send(session.id, events=[{"type": "user.interrupt"}])
        if event.type == "session.status_idle":
            break
    await stream.close()
    assert seen[-1] == "session.status_idle" and "agent.tool_use" in seen
    assert fake_model.remaining() == 0
    assert (await client.beta.sessions.retrieve(session.id)).status == "idle"


async def test_errors_raise_the_sdks_own_exceptions(client: anthropic.AsyncAnthropic, runtime: Runtime) -> None:
    async with sdk_client(runtime, api_key="not-the-key") as stranger:
        with pytest.raises(anthropic.AuthenticationError):
            await stranger.beta.sessions.list()
    with pytest.raises(anthropic.NotFoundError):
        await client.beta.sessions.retrieve("4f6c1d2e-0000-4000-8000-00000000dead")
    with pytest.raises(anthropic.NotFoundError) as no_environment:
        await client.beta.sessions.create(agent="default", environment_id="env_elsewhere")
    assert type(no_environment.value).__name__ == "BetaEnvironmentNotFoundError"
    with pytest.raises(anthropic.BadRequestError):
        await client.beta.sessions.create(agent={"type": "nonsense"}, environment_id="default")  # type: ignore[arg-type]
    with pytest.raises(anthropic.BadRequestError):
        await client.beta.sessions.events.send(
            "4f6c1d2e-0000-4000-8000-00000000dead", events=[{"type": "user.message", "content": []}]
        )
    with pytest.raises(anthropic.NotFoundError) as not_served:
        await client.beta.vaults.list()
    assert "does not serve" in str(not_served.value)


async def test_an_archived_session_keeps_its_events_and_takes_no_more(
    client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.text("Kept.")])
    session = await new_session(client)
    streamed = await turn(client, session.id, "keep this")

    archived = await client.beta.sessions.archive(session.id)

    assert archived.archived_at is not None and archived.status == "idle"
    with pytest.raises(anthropic.BadRequestError) as refused:
        await say(client, session.id, "one more")
    assert "archived" in str(refused.value)
    listed = [event.id async for event in client.beta.sessions.events.list(session.id)]
    assert listed == [event.id for event in streamed]
