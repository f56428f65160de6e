"""The real `anthropic` SDK creates environments and runs sessions in them: what the environment allows
reaches the session's sandbox, and an archived or deleted one changes no session made in it."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import AUTH, Runtime
from tests.integration.managed_agents.conftest import say, until_idle
from tests.support.rpc import channel

LIMITED: Any = {"type": "cloud", "networking": {"type": "limited", "allowed_hosts": ["example.org"]}}
SHOW_PROXY = {"command": 'printf "%s" "$HTTPS_PROXY" > proxy.txt'}


async def written(runtime: Runtime, session_id: str, path: str) -> bytes:
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        found = await stub.GetWorkspaceFile(
            api.GetWorkspaceFileRequest(session_id=session_id, path=path), metadata=AUTH
        )
    return found.content


async def proxy_seen_in(
    client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic, runtime: Runtime, environment_id: str
) -> bytes:
    """What HTTPS_PROXY is in the sandbox of a new session in the environment."""
    fake_model.script([Turn.tool_use("Bash", SHOW_PROXY), Turn.text("Shown.")])
    session = await client.beta.sessions.create(
        agent="default", environment_id=environment_id, metadata={"architecture": "anthropic"}
    )
    stream = await client.beta.sessions.events.stream(session.id)
    await say(client, session.id, "Show the proxy")
    await until_idle(stream)
    await stream.close()
    return await written(runtime, session.id, "proxy.txt")


async def test_an_environments_allowed_hosts_reach_its_sessions_sandbox(
    client: anthropic.AsyncAnthropic, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    environment = await client.beta.environments.create(name="Egress", config=LIMITED)

    assert await proxy_seen_in(client, fake_model, runtime, environment.id) == b"http://127.0.0.1:3128"
    assert await proxy_seen_in(client, fake_model, runtime, "default") == b"", "the default profile reaches nothing"


async def test_an_environment_is_shown_as_it_was_created_and_updated(client: anthropic.AsyncAnthropic) -> None:
    environment = await client.beta.environments.create(
        name="Data",
        description="pandas",
        config={"type": "cloud", "networking": {"type": "unrestricted"}, "packages": {"pip": ["pandas"]}},
        metadata={"team": "research"},
    )

    updated = await client.beta.environments.update(
        environment.id, config={"type": "cloud", "packages": {"npm": ["left-pad"]}}, metadata={"team": None}
    )

    assert environment.id.startswith("env_") and environment.config.type == "cloud"
    assert environment.config.networking.type == "unrestricted"
    assert (environment.config.packages.pip, environment.metadata) == (["pandas"], {"team": "research"})
    assert updated.config.type == "cloud"
    assert (updated.config.packages.pip, updated.config.packages.npm) == ([], ["left-pad"])
    assert updated.config.networking.type == "unrestricted", "what an update leaves out is kept"
    assert updated.metadata == {}
    assert await client.beta.environments.retrieve(environment.id) == updated


async def test_an_archived_environment_starts_no_session_and_a_deleted_one_is_gone(
    client: anthropic.AsyncAnthropic,
) -> None:
    kept = await client.beta.environments.create(name="Kept", config=LIMITED)
    session = await client.beta.sessions.create(agent="default", environment_id=kept.id)

    archived = await client.beta.environments.archive(kept.id)
    with pytest.raises(anthropic.BadRequestError):
        await client.beta.sessions.create(agent="default", environment_id=kept.id)
    listed = [environment.id async for environment in client.beta.environments.list()]
    deleted = await client.beta.environments.delete(kept.id)

    assert archived.archived_at is not None and kept.id not in listed and "default" in listed
    assert deleted.id == kept.id
    with pytest.raises(anthropic.NotFoundError):
        await client.beta.environments.retrieve(kept.id)
    assert (await client.beta.sessions.retrieve(session.id)).environment_id == kept.id


@pytest.mark.parametrize(
    "config",
    [
        {"type": "cloud", "packages": {"apt": ["ffmpeg"]}},
        {"type": "cloud", "networking": {"type": "open"}},
        {"type": "cloud", "packages": {"pip": ["--index-url=https://elsewhere.example/simple"]}},
        {"type": "somewhere"},
    ],
)
async def test_what_an_environment_cannot_be_here_is_refused(client: anthropic.AsyncAnthropic, config: Any) -> None:
    before = [environment.id async for environment in client.beta.environments.list(include_archived=True)]

    with pytest.raises(anthropic.BadRequestError):
        await client.beta.environments.create(name="Refused", config=config)

    assert [environment.id async for environment in client.beta.environments.list(include_archived=True)] == before


async def test_the_default_environment_cannot_be_changed(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError):
        await client.beta.environments.delete("default")
    with pytest.raises(anthropic.NotFoundError):
        await client.beta.environments.retrieve("env_elsewhere")
