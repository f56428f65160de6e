"""The runtime's session events as Managed Agents events. Each of ours gives none, one or two of theirs;
what has no counterpart (deltas, files, sandbox states...) is left out, never invented.

Ids are stable, so a list and a stream agree: `sevt_<sequence>` of the event it comes from (and
`sevt_<sequence>_2` for its second), except that a tool call's event carries the model's own tool_use id,
which its result names, and a user message's is its turn's (`sevt_turn_<turn_id>`), which sending it
answers with.

| ours | theirs |
|---|---|
| message_accepted | user.message |
| turn_started | session.status_running |
| block_complete: assistant_text / thinking | agent.message / agent.thinking |
| block_complete: tool_use / tool_result | agent.tool_use / agent.tool_result |
| turn_completed | session.status_idle (end_turn); a failed turn: session.error first |
| error | session.error |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.managed_agents.resources import rfc3339
from agent_runtime.permissions.gate import output_text

MAIN = "main"
Event = dict[str, Any]


def user_message_id(turn_id: str) -> str:
    return f"sevt_turn_{turn_id}"


def _text(text: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": text}]


def _error(message: str) -> dict[str, Any]:
    return {"type": "unknown_error", "message": message, "retry_status": {"type": "terminal"}}


def _from_block(block: blocks_pb2.ConversationBlock) -> Event | None:
    kind = block.WhichOneof("kind")
    if kind == "assistant_text":
        return {"type": "agent.message", "content": _text(block.assistant_text.content)}
    if kind == "thinking":
        return {"type": "agent.thinking"}
    if kind == "tool_use":
        call = block.tool_use
        return {
            "id": call.tool_use_id,
            "type": "agent.tool_use",
            "name": call.tool_name,
            "input": json_format.MessageToDict(call.input),
        }
    if kind == "tool_result":
        result = block.tool_result
        return {
            "type": "agent.tool_result",
            "tool_use_id": result.tool_use_id,
            "content": _text(output_text(result.output)),
            "is_error": result.is_error,
        }
    return None


def _turn_completed(done: events_pb2.TurnCompleted) -> list[Event]:
    idle = {"type": "session.status_idle", "stop_reason": {"type": "end_turn"}}
    if done.outcome == events_pb2.TURN_OUTCOME_FAILED:
        return [{"type": "session.error", "error": _error(done.message)}, idle]
    return [idle]


MAPPERS: dict[str, Callable[[events_pb2.SessionEvent], list[Event]]] = {
    "message_accepted": lambda e: [
        {
            "id": user_message_id(e.message_accepted.turn_id),
            "type": "user.message",
            "content": _text(e.message_accepted.user_message.user_message.content),
        }
    ],
    "turn_started": lambda e: [{"type": "session.status_running"}],
    "block_complete": lambda e: [found] if (found := _from_block(e.block_complete.block)) else [],
    "turn_completed": lambda e: _turn_completed(e.turn_completed),
    "error": lambda e: [{"type": "session.error", "error": _error(e.error.message)}],
}


def managed_events(event: events_pb2.SessionEvent) -> list[Event]:
    """The Managed Agents events of one of ours (a subagent's conversation has none here yet)."""
    mapper = MAPPERS.get(event.WhichOneof("payload") or "")
    if mapper is None or event.conversation_id not in ("", MAIN):
        return []
    processed_at = rfc3339(event.time)
    mapped = mapper(event)
    for number, found in enumerate(mapped, start=1):
        found.setdefault("id", f"sevt_{event.sequence}" + (f"_{number}" if number > 1 else ""))
        found["processed_at"] = processed_at
    return mapped
