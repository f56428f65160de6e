"""The runtime's session events as Managed Agents events. Each of ours gives none, one or two of theirs;
what has no counterpart (deltas, files, sandbox states...) is left out, never invented.

Ids are stable, so a list and a stream agree: `sevt_<sequence>` of the event it comes from (and
`sevt_<sequence>_2` for its second), except that a tool call's event carries the model's own tool_use id,
which its result names, a user message's is its turn's (`sevt_turn_<turn_id>`), which sending it answers
with, and an agent message's is its block's (`sevt_block_<block_id>`), which its deltas name before it is
complete. Deltas (event_start, event_delta) are sent only on a stream that asks for them.

| ours | theirs |
|---|---|
| message_accepted | user.message |
| turn_started | session.status_running |
| block_complete: assistant_text / thinking | agent.message / agent.thinking |
| block_complete: tool_use (as the model made it, before it runs) / tool_result | agent.tool_use / agent.tool_result |
| approval_requested | session.status_idle (requires_action, naming the call's agent.tool_use) |
| client_tool_call | agent.custom_tool_use, then session.status_idle (requires_action) |
| approval_resolved, client_tool_result | session.status_running |
| turn_completed | session.status_idle (end_turn); a failed turn: session.error first |
| block_start / block_delta of assistant_text, on a stream asking for them | event_start / event_delta |
| error | session.error |

A client tool's tool_use block gives no agent.tool_use: its agent.custom_tool_use stands for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.agents import claude_control, gemini_control
from agent_runtime.managed_agents.times import rfc3339
from agent_runtime.permissions.gate import output_text

MAIN = "main"
Event = dict[str, Any]


STREAM_ONLY = ("event_start", "event_delta")


def user_message_id(turn_id: str) -> str:
    return f"sevt_turn_{turn_id}"


def agent_message_id(block_id: str) -> str:
    return f"sevt_block_{block_id}"


def _text(text: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": text}]


def _error(message: str) -> dict[str, Any]:
    return {"type": "unknown_error", "message": message, "retry_status": {"type": "terminal"}}


def _requires_action(tool_use_id: str) -> Event:
    return {"type": "session.status_idle", "stop_reason": {"type": "requires_action", "event_ids": [tool_use_id]}}


def _turn_completed(done: events_pb2.TurnCompleted) -> list[Event]:
    idle = {"type": "session.status_idle", "stop_reason": {"type": "end_turn"}}
    if done.outcome == events_pb2.TURN_OUTCOME_FAILED:
        return [{"type": "session.error", "error": _error(done.message)}, idle]
    return [idle]


class EventMapper:
    """One session's events as Managed Agents events; `client_tools`: the session's client tools' names."""

    def __init__(self, client_tools: Iterable[str], text_deltas: bool = False) -> None:
        """`text_deltas`: an agent message is also sent as it streams (event_start, event_delta)."""
        # As each architecture's model sees them: by name, or through the runtime's MCP server.
        prefixes = ("", claude_control.CLIENT_TOOL_PREFIX, gemini_control.CLIENT_TOOL_PREFIX)
        self._client_tools = {prefix + name for name in client_tools for prefix in prefixes}
        self._mappers: dict[str, Callable[[events_pb2.SessionEvent], list[Event]]] = {
            "message_accepted": lambda e: [
                {
                    "id": user_message_id(e.message_accepted.turn_id),
                    "type": "user.message",
                    "content": _text(e.message_accepted.user_message.user_message.content),
                }
            ],
            "turn_started": lambda e: [{"type": "session.status_running"}],
            "block_start": lambda e: self._started(e.block_start.block) if text_deltas else [],
            "block_delta": lambda e: self._delta(e.block_delta) if text_deltas else [],
            "block_complete": lambda e: self._from_block(e.block_complete.block),
            "approval_requested": lambda e: [_requires_action(e.approval_requested.tool_use_id)],
            "client_tool_call": lambda e: [
                {
                    "id": e.client_tool_call.tool_use_id,
                    "type": "agent.custom_tool_use",
                    "name": e.client_tool_call.tool_name,
                    "input": json_format.MessageToDict(e.client_tool_call.input),
                },
                _requires_action(e.client_tool_call.tool_use_id),
            ],
            # Answered (or closed unanswered): the turn goes on.
            "approval_resolved": lambda e: [{"type": "session.status_running"}],
            "client_tool_result": lambda e: [{"type": "session.status_running"}],
            "turn_completed": lambda e: _turn_completed(e.turn_completed),
            "error": lambda e: [{"type": "session.error", "error": _error(e.error.message)}],
        }

    def events(self, event: events_pb2.SessionEvent) -> list[Event]:
        """The Managed Agents events of one of ours (a subagent's conversation has none here yet)."""
        mapper = self._mappers.get(event.WhichOneof("payload") or "")
        if mapper is None or event.conversation_id not in ("", MAIN):
            return []
        processed_at = rfc3339(event.time)
        mapped = mapper(event)
        for number, found in enumerate(mapped, start=1):
            if found["type"] not in STREAM_ONLY:
                found.setdefault("id", f"sevt_{event.sequence}" + (f"_{number}" if number > 1 else ""))
                found["processed_at"] = processed_at
        return mapped

    @staticmethod
    def _started(block: blocks_pb2.ConversationBlock) -> list[Event]:
        if not block.HasField("assistant_text"):
            return []
        return [{"type": "event_start", "event": {"id": agent_message_id(block.id), "type": "agent.message"}}]

    @staticmethod
    def _delta(delta: events_pb2.BlockDelta) -> list[Event]:
        if delta.kind != events_pb2.DELTA_KIND_TEXT:
            return []
        return [
            {
                "type": "event_delta",
                "event_id": agent_message_id(delta.block_id),
                "delta": {"type": "content_delta", "content": {"type": "text", "text": delta.delta}, "index": 0},
            }
        ]

    def _from_block(self, block: blocks_pb2.ConversationBlock) -> list[Event]:
        kind = block.WhichOneof("kind")
        if kind == "assistant_text":
            return [
                {
                    "id": agent_message_id(block.id),
                    "type": "agent.message",
                    "content": _text(block.assistant_text.content),
                }
            ]
        if kind == "thinking":
            return [{"type": "agent.thinking"}]
        if kind == "tool_use" and block.tool_use.tool_name not in self._client_tools:
            call = block.tool_use
            return [
                {
                    "id": call.tool_use_id,
                    "type": "agent.tool_use",
                    "name": call.tool_name,
                    "input": json_format.MessageToDict(call.input),
                }
            ]
        if kind == "tool_result":
            result = block.tool_result
            return [
                {
                    "type": "agent.tool_result",
                    "tool_use_id": result.tool_use_id,
                    "content": _text(output_text(result.output)),
                    "is_error": result.is_error,
                }
            ]
        return []
