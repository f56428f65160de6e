"""A runtime whose models are the fake Anthropic and Gemini APIs, with sessions of any architecture."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, blocks_pb2, events_pb2
from tests.fakes.anthropic import FakeAnthropic, running_fake_anthropic
from tests.fakes.gemini import FakeGemini, running_fake_gemini
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles
from tests.support.rpc import channel

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

ARGS = ("--heartbeat-interval=0.5s",)
# A profile with a subagent of its own, for Claude Code's Task tool.
DELEGATING_PROFILE = """\
name: Delegating
tools: [Read, Bash]
subagents:
  - name: scout
    description: Looks around the workspace and reports what is there.
    prompt: You look around and report briefly.
"""
# A profile with a memory file, a system prompt and a command, to see them reach the agent.
REMEMBERING_PROFILE = """\
name: Remembering
agentMDFile: "MEMORY-MARKER: the user likes tea."
systemPrompt: "SYSTEM-MARKER: answer briefly."
commands:
  - name: greet
    prompt: "COMMAND-MARKER: say hello."
"""
# A profile whose agent may ask the user questions, and asks before it writes a file.
ASKING_PROFILE = """\
name: Asking
tools: [Read, Write, Bash, AskUserQuestion]
permissions:
  rules:
    - rule: Write
      action: PERMISSION_ACTION_ASK
"""
# A workspace that may keep 3 MB in storage, on a 64 MiB disk.
SMALL_WORKSPACE_PROFILE = """\
name: Small workspace
tools: [Bash]
limits:
  workspaceBytes: 3000000
  diskBytes: 67108864
"""


@pytest.fixture(scope="module")
async def fake_model() -> AsyncIterator[FakeAnthropic]:
    async with running_fake_anthropic([]) as fake:
        yield fake


@pytest.fixture(scope="module")
async def fake_gemini() -> AsyncIterator[FakeGemini]:
    async with running_fake_gemini([]) as fake:
        yield fake


def model_environment(fake_model: FakeAnthropic, fake_gemini: FakeGemini) -> dict[str, str]:
    """The variables that point a runtime's architectures at the fake model APIs."""
    return {
        "ANTHROPIC_API_KEY": fake_model.api_key,
        "ANTHROPIC_BASE_URL": fake_model.base_url,
        "GEMINI_API_KEY": fake_gemini.api_key,
        "GOOGLE_GEMINI_BASE_URL": fake_gemini.base_url,
    }


@pytest.fixture(scope="module")
def runtime(
    tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic, fake_gemini: FakeGemini
) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("agents")
    profiles = make_profiles(root / "profiles")
    (profiles / "delegating.yaml").write_text(DELEGATING_PROFILE)
    (profiles / "remembering.yaml").write_text(REMEMBERING_PROFILE)
    (profiles / "small-workspace.yaml").write_text(SMALL_WORKSPACE_PROFILE)
    (profiles / "asking.yaml").write_text(ASKING_PROFILE)
    env = model_environment(fake_model, fake_gemini)
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

    async def send(self, content: str, timeout: float | None = None, **fields: Any) -> api.SendMessageResponse:
        request = api.SendMessageRequest(session_id=self.session_id, content=content, **fields)
        return await self.stub.SendMessage(request, metadata=AUTH, timeout=timeout)

    async def until(self, done: Callable[[events_pb2.SessionEvent], bool]) -> list[events_pb2.SessionEvent]:
        """The events after the cursor up to the first one that is `done`; moves the cursor past them."""
        request = api.StreamSessionEventsRequest(session_id=self.session_id, after_sequence=self.cursor, follow=True)
        stream = self.stub.StreamSessionEvents(request, metadata=AUTH)
        seen: list[events_pb2.SessionEvent] = []
        async for response in stream:
            if not response.HasField("event"):
                continue
            seen.append(response.event)
            self.cursor = response.event.sequence
            if done(response.event):
                break
        stream.cancel()
        return seen

    async def until_turn_completed(self, turns: int = 1) -> list[events_pb2.SessionEvent]:
        """The events after the cursor up to the `turns`-th turn_completed; moves the cursor past them."""
        left = [turns]

        def last_turn(event: events_pb2.SessionEvent) -> bool:
            left[0] -= event.HasField("turn_completed")
            return left[0] == 0

        return await self.until(last_turn)

    async def until_turns_ended(self, turn_ids: list[str]) -> list[events_pb2.SessionEvent]:
        """The events after the cursor until each of the turns has its turn_completed."""
        waiting = set(turn_ids)

        def all_ended(event: events_pb2.SessionEvent) -> bool:
            waiting.discard(event.turn_completed.turn_id if event.HasField("turn_completed") else "")
            return not waiting

        return await self.until(all_ended)

    async def until_event(self, kind: str, turn_id: str) -> events_pb2.SessionEvent:
        """The first event of `kind` (message_accepted, turn_started, turn_completed) for the turn."""
        seen = await self.until(lambda e: e.HasField(kind) and getattr(e, kind).turn_id == turn_id)  # type: ignore[arg-type]
        return seen[-1]


async def open_conversation(stub: Stub, architecture: str, profile: str = "default") -> Conversation:
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref=profile, architecture=architecture), metadata=AUTH
    )
    return Conversation(stub, created.session_id)


@pytest.fixture
async def conversation(stub: Stub) -> Conversation:
    return await open_conversation(stub, "anthropic")


def kinds(events: list[events_pb2.SessionEvent]) -> list[str]:
    """Each event's kind, with the block kind for block events: "block_start:tool_use"."""
    named = []
    for event in events:
        kind = event.WhichOneof("payload") or ""
        block = getattr(event, kind).block if kind in ("block_start", "block_update", "block_complete") else None
        named.append(f"{kind}:{block.WhichOneof('kind')}" if block is not None else kind)
    return named


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def file_events(events: list[events_pb2.SessionEvent]) -> list[tuple[str, str, str]]:
    """(kind, path, sha256) of each file event, in order; no sha256 for a deletion."""
    found: list[tuple[str, str, str]] = []
    for event in events:
        kind = event.WhichOneof("payload") or ""
        if kind == "file_deleted":
            found.append((kind, event.file_deleted.path, ""))
        elif kind in ("file_created", "file_modified"):
            file = getattr(event, kind).file
            assert not file.content, "a file event never carries the content"
            found.append((kind, file.path, file.sha256))
    return found


def sleeping(marker: str) -> bool:
    return bool(subprocess.run(["pgrep", "-f", marker], capture_output=True).stdout)


async def until_sleeping(marker: str, running: bool = True) -> None:
    """Waits (20 s at most) until a process matching `marker` runs, or with running=False, until none does."""
    for _ in range(400):
        if sleeping(marker) == running:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{marker!r} {'never ran' if running else 'is still running'}")


def completed_blocks(events: list[events_pb2.SessionEvent], kind: str) -> list[blocks_pb2.ConversationBlock]:
    """The blocks of one kind ("tool_use", "assistant_text"...) that the events completed, in order."""
    completed = [e.block_complete.block for e in events if e.HasField("block_complete")]
    return [block for block in completed if block.WhichOneof("kind") == kind]


async def interrupt_when_sleeping(
    conversation: Conversation, turn_id: str, marker: str
) -> list[events_pb2.SessionEvent]:
    """Interrupts the turn once its command (found by `marker`) runs; returns the turn's events, after checking
    that it ended interrupted and that the command is gone."""
    await until_sleeping(marker)
    interrupted = await conversation.stub.InterruptSession(
        api.InterruptSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert interrupted.interrupted and interrupted.turn_id == turn_id
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_INTERRUPTED
    await until_sleeping(marker, running=False)
    assert not sleeping(marker), "the command was killed"
    return events
