"""The `anthropic` architecture as a session's agent: the message list lives in the runtime, each turn
runs the native loop on it, and a turn that does not complete leaves it as it was."""

from __future__ import annotations

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, profile_pb2
from agent_runtime.agents import anthropic_loop, anthropic_transcript
from agent_runtime.agents.base import Transcripts, TurnContext
from agent_runtime.agents.tools import ToolBox
from agent_runtime.permissions.gate import ASK_USER_QUESTION
from agent_runtime.sandboxes.base import Sandbox
from agent_runtime.sessions.model_access import ModelAccess


class AnthropicSessionAgent:
    def __init__(self, models: ModelAccess, profile: profile_pb2.AgentProfile, stored: Transcripts) -> None:
        self._models = models
        self._profile = profile
        self._entries = anthropic_transcript.parse(stored.main)

    async def prepare(self, sandbox: Sandbox) -> None:
        """Nothing to put in place: the conversation lives in the runtime, the tools find the workspace."""

    async def run(self, message: blocks_pb2.ConversationBlock, turn: TurnContext) -> None:
        before = len(self._entries)
        content = anthropic_transcript.user_content(message.user_message)
        self._entries.append(
            anthropic_transcript.entry(message.id, {"role": "user", "content": content}, message.timestamp)
        )
        options = turn.options
        settings = anthropic_loop.LoopSettings(
            model=options.model or anthropic_loop.DEFAULT_MODEL,
            system_prompt=self._profile.system_prompt,
            max_tokens=options.anthropic.max_tokens or anthropic_loop.DEFAULT_MAX_TOKENS,
            thinking_budget_tokens=options.anthropic.thinking_budget_tokens,
            max_iterations=options.anthropic.max_iterations or anthropic_loop.DEFAULT_MAX_ITERATIONS,
            asks_user=ASK_USER_QUESTION in self._profile.tools,
        )
        tools = ToolBox(turn.sandbox, list(self._profile.tools), turn.environment)
        client = self._models.anthropic_client()
        loop = anthropic_loop.AnthropicAgent(client, settings, tools, turn.settle_files, turn.gate)
        try:
            await loop.run(self._entries, turn.emitter)
        except BaseException:  # failed or interrupted: the next turn starts from the last complete one
            del self._entries[before:]
            raise

    async def transcripts(self) -> Transcripts:
        return Transcripts(main=anthropic_transcript.serialize(self._entries))
