"""What every architecture offers a session: put its conversation into a new sandbox, run a turn, and
say which transcripts changed so the session can store them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, session_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.permissions.gate import TurnGate
from agent_runtime.sandboxes.base import Sandbox

MAIN_TRANSCRIPT = ""  # the subagent id under which storage keeps the main transcript


@dataclass
class Transcripts:
    """A session's raw transcripts as storage keeps them: the main one and one per subagent."""

    main: str = ""
    subagents: dict[str, str] = field(default_factory=dict)

    def by_id(self) -> dict[str, str]:
        return {MAIN_TRANSCRIPT: self.main, **self.subagents}


@dataclass(frozen=True)
class TurnContext:
    """What a turn works with: the session's sandbox (a new one if it died), its options as the turn
    starts, the variables commands in the sandbox get besides the profile's (the model channel), and a
    way to save and announce the workspace's changes so far (a loop that runs tools itself calls it after
    each, so a tool's file events come before the next tool starts), and the gate that decides whether
    each tool call runs and answers the caller's tools."""

    sandbox: Callable[[], Awaitable[Sandbox]]
    options: session_pb2.SessionOptions
    environment: Callable[[], Mapping[str, str]]
    emitter: BlockEmitter
    settle_files: Callable[[], Awaitable[None]]
    gate: TurnGate


class Agent(Protocol):
    async def prepare(self, sandbox: Sandbox) -> None:
        """A new sandbox: puts the profile's files and the conversation so far where the agent reads them."""
        ...

    async def run(self, message: blocks_pb2.ConversationBlock, turn: TurnContext) -> None:
        """One turn for the user_message block. Raises when the turn fails and is cancelled when it is
        interrupted; either way what the agent keeps stays consistent for the next turn."""
        ...

    async def transcripts(self) -> Transcripts:
        """The transcripts as they stand now, for storage."""
        ...
