"""The real `anthropic` SDK creates agents, updates them a version at a time, archives them, and runs
sessions on the version it chooses."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.managed_agents.conftest import say, until_idle

NOTE = {"file_path": "notes/hello.txt", "content": "hi there\n"}
TOOLS: list[Any] = [
    {
        "type": "agent_toolset_20260401",
        "default_config": {"enabled": True, "permission_policy": {"type": "always_allow"}},
        "configs": [
            {"name": "write", "permission_policy": {"type": "always_ask"}},
            {"name": "web_search", "enabled": False},
        ],
    },
    {
        "type": "custom",
        "name": "get_time",
        "description": "The time now, where the user is.",
        "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
]


async def new_agent(client: anthropic.AsyncAnthropic, **fields: Any) -> Any:
    return await client.beta.agents.create(
        **{"name": "Note taker", "model": "claude-haiku-4-5", "system": "Take notes.", "tools": TOOLS, **fields}
    )


async def test_an_agent_is_shown_as_it_was_created(client: anthropic.AsyncAnthropic) -> None:
    agent = await new_agent(client, description="Writes notes.", metadata={"team": "docs"})

    fetched = await client.beta.agents.retrieve(agent.id)

    assert fetched == agent
    assert agent.id.startswith("agent_") and agent.version == 1 and agent.archived_at is None
    assert (agent.name, agent.model.id, agent.system, agent.description) == (
        "Note taker",
        "claude-haiku-4-5",
        "Take notes.",
        "Writes notes.",
    )
    assert agent.metadata == {"team": "docs"}
    toolset, custom = agent.tools
    assert toolset.type == "agent_toolset_20260401" and toolset.default_config.enabled
    shown = {config.name: (config.enabled, config.permission_policy.type) for config in toolset.configs}
    assert shown == {"write": (True, "always_ask"), "web_search": (False, "always_allow")}
    assert (custom.type, custom.name, custom.input_schema.properties) == (
        "custom",
        "get_time",
        {"zone": {"type": "string"}},
    )


async def test_an_agents_session_asks_before_it_writes_and_calls_the_callers_tool(
    client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic
) -> None:
    agent = await new_agent(client)
    fake_model.script([Turn.tool_use("Write", NOTE), Turn.tool_use("get_time", {"zone": "CET"}), Turn.text("Noted.")])
    session = await client.beta.sessions.create(
        agent=agent.id, environment_id="default", metadata={"architecture": "anthropic"}
    )
    stream = await client.beta.sessions.events.stream(session.id)

    await say(client, session.id, "Note the time")
    asked = await until_idle(stream)
    await client.beta.sessions.events.send(
        session.id, events=[{"type": "user.tool_confirmation", "tool_use_id": asked[-2].id, "result": "allow"}]
    )
    called = await until_idle(stream)
    await client.beta.sessions.events.send(
        session.id,
        events=[
            {
                "type": "user.custom_tool_result",
                "custom_tool_use_id": called[-2].id,
                "content": [{"type": "text", "text": "12:00"}],
            }
        ],
    )
    ended = await until_idle(stream)
    await stream.close()

    assert (session.agent.id, session.agent.version) == (agent.id, 1)
    assert asked[-1].stop_reason.type == "requires_action" and asked[-2].name == "Write"
    assert (called[-2].type, called[-2].name, called[-2].input) == (
        "agent.custom_tool_use",
        "get_time",
        {"zone": "CET"},
    )
    assert ended[-2].content[0].text == "Noted." and ended[-1].stop_reason.type == "end_turn"
    seen = await client.beta.sessions.retrieve(session.id)
    assert (seen.usage.input_tokens, seen.usage.output_tokens) == (3 * 25, 3 * 12), "three model calls' tokens"


async def test_each_update_is_a_version_and_a_session_keeps_the_one_it_started_on(
    client: anthropic.AsyncAnthropic,
) -> None:
    agent = await new_agent(client)
    before = await client.beta.sessions.create(agent=agent.id, environment_id="default")

    updated = await client.beta.agents.update(agent.id, version=1, system="Take short notes.", metadata={"a": "b"})
    unchanged = await client.beta.agents.update(agent.id, system="Take short notes.")
    after = await client.beta.sessions.create(agent=agent.id, environment_id="default")
    pinned = await client.beta.sessions.create(
        agent={"type": "agent", "id": agent.id, "version": 1}, environment_id="default"
    )

    assert (updated.version, updated.system, updated.metadata, updated.tools) == (
        2,
        "Take short notes.",
        {"a": "b"},
        agent.tools,
    )
    assert unchanged.version == 2, "an update that changes nothing makes no version"
    assert [before.agent.version, after.agent.version, pinned.agent.version] == [1, 2, 1]
    assert (await client.beta.sessions.retrieve(before.id)).agent.system == "Take notes."
    versions = [version async for version in client.beta.agents.versions.list(agent.id)]
    assert [(version.version, version.system) for version in versions] == [(2, "Take short notes."), (1, "Take notes.")]
    assert (await client.beta.agents.retrieve(agent.id, version=1)).system == "Take notes."


async def test_an_update_from_a_stale_version_is_a_conflict_and_changes_nothing(
    client: anthropic.AsyncAnthropic,
) -> None:
    agent = await new_agent(client)
    await client.beta.agents.update(agent.id, version=1, system="Second.")

    with pytest.raises(anthropic.ConflictError):
        await client.beta.agents.update(agent.id, version=1, system="Lost.")

    assert (await client.beta.agents.retrieve(agent.id)).system == "Second."


async def test_an_archived_agent_starts_no_session_and_is_listed_only_when_asked(
    client: anthropic.AsyncAnthropic,
) -> None:
    agent = await new_agent(client)

    archived = await client.beta.agents.archive(agent.id)

    assert archived.archived_at is not None
    with pytest.raises(anthropic.BadRequestError) as refused:
        await client.beta.sessions.create(agent=agent.id, environment_id="default")
    assert "archived" in str(refused.value)
    listed = [listed.id async for listed in client.beta.agents.list()]
    every = [listed.id async for listed in client.beta.agents.list(include_archived=True, limit=2)]
    assert agent.id not in listed and agent.id in every
    assert {"default", "asking", "weather"} <= set(listed), "the built-in profiles are agents too"


@pytest.mark.parametrize(
    "fields",
    [
        {"skills": [{"type": "anthropic", "skill_id": "xlsx"}]},
        {"tools": [{"type": "agent_toolset_20260401", "default_config": {"permission_policy": {"type": "auto"}}}]},
        {"tools": [{"type": "mcp_toolset", "mcp_server_name": "nowhere"}]},
        {"model": ""},
        {"metadata": {f"k{n}": "v" for n in range(17)}},
    ],
)
async def test_what_an_agent_cannot_be_here_is_refused_and_nothing_is_stored(
    client: anthropic.AsyncAnthropic, fields: dict[str, Any]
) -> None:
    before = [agent.id async for agent in client.beta.agents.list(include_archived=True)]

    with pytest.raises(anthropic.BadRequestError):
        await new_agent(client, **fields)

    assert [agent.id async for agent in client.beta.agents.list(include_archived=True)] == before


async def test_a_built_in_agent_cannot_be_changed(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await client.beta.agents.update("default", system="Mine now.")

    assert "built in" in str(refused.value)
