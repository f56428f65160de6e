"""Each architecture's agent for a loaded session, and its parser for stored transcripts."""

from __future__ import annotations

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, persistence_pb2, profile_pb2
from agent_runtime.agents import anthropic_transcript, claude_transcript, gemini_transcript
from agent_runtime.agents.anthropic_session import AnthropicSessionAgent
from agent_runtime.agents.base import Agent, Transcripts
from agent_runtime.agents.claude_code import ClaudeCodeAgent
from agent_runtime.agents.gemini_cli import GeminiCliAgent
from agent_runtime.sessions.model_access import ModelAccess


def stored_transcripts(loaded: persistence_pb2.LoadSessionResponse) -> Transcripts:
    return Transcripts(loaded.raw_transcript, {s.subagent_id: s.raw_transcript for s in loaded.subagents})


def agent_for(
    architecture: str, profile: profile_pb2.AgentProfile, session_id: str, stored: Transcripts, models: ModelAccess
) -> Agent:
    if architecture == "claude-agent-sdk":
        return ClaudeCodeAgent(profile, session_id, stored)
    if architecture == "gemini-cli":
        return GeminiCliAgent(profile, session_id, stored)
    return AnthropicSessionAgent(models, profile, stored)


def conversation(
    architecture: str, stored: Transcripts
) -> tuple[list[blocks_pb2.ConversationBlock], list[blocks_pb2.SubagentConversation]]:
    """The session's blocks and subagent conversations, rebuilt from its stored transcripts."""
    if architecture == "claude-agent-sdk":
        parsed = claude_transcript.parse(stored.main, stored.subagents)
        return parsed.blocks, parsed.subagents
    if architecture == "gemini-cli":
        return gemini_transcript.parse(stored.main), []
    return anthropic_transcript.blocks(anthropic_transcript.parse(stored.main)), []
