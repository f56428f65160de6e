"""A runtime whose model is the fake Anthropic API, with one anthropic session per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from tests.fakes.anthropic import FakeAnthropic, running_fake_anthropic
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles
from tests.support.rpc import channel

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

ARGS = ("--heartbeat-interval=0.5s",)


@pytest.fixture(scope="module")
async def fake_model() -> AsyncIterator[FakeAnthropic]:
    async with running_fake_anthropic([]) as fake:
        yield fake


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("agents")
    profiles = make_profiles(root / "profiles")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS, env), ARGS, env)
    yield server
    server.process.stop()


@pytest.fixture
async def stub(runtime: Runtime) -> AsyncIterator[Stub]:
    async with channel(runtime.address) as open_channel:
        yield agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)


@dataclass
class Conversation:
    """One session and a cursor over its events, as a client following it would keep."""

    stub: Stub
    session_id: str
    cursor: int = 0

    async def send(self, content: str, **fields: Any) -> api.SendMessageResponse:
        request = api.SendMessageRequest(session_id=self.session_id, content=content, **fields)
        return await self.stub.SendMessage(request, metadata=AUTH)

    async def until_turn_completed(self, turns: int = 1) -> list[events_pb2.SessionEvent]:
        """The events after the cursor up to the `turns`-th turn_completed; moves the cursor past them."""
        request = api.StreamSessionEventsRequest(session_id=self.session_id, after_sequence=self.cursor, follow=True)
        stream = self.stub.StreamSessionEvents(request, metadata=AUTH)
        seen: list[events_pb2.SessionEvent] = []
        async for response in stream:
            if not response.HasField("event"):
                continue
            seen.append(response.event)
            self.cursor = response.event.sequence
            if response.event.HasField("turn_completed"):
                turns -= 1
                if turns == 0:
                    break
        stream.cancel()
        return seen


@pytest.fixture
async def conversation(stub: Stub) -> Conversation:
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic"), metadata=AUTH
    )
    return Conversation(stub, created.session_id)


def kinds(events: list[events_pb2.SessionEvent]) -> list[str]:
    """Each event's kind, with the block kind for block events: "block_start:tool_use"."""
    named = []
    for event in events:
        kind = event.WhichOneof("payload") or ""
        block = getattr(event, kind).block if kind in ("block_start", "block_update", "block_complete") else None
        named.append(f"{kind}:{block.WhichOneof('kind')}" if block is not None else kind)
    return named
