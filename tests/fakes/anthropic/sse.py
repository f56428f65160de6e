"""A turn as the Messages API streams it: server-sent events, each an `event:` line naming its type and a
`data:` line with a JSON object of the same `type` (the `anthropic` SDK drops events without an `event:`
line).

Order: message_start, ping, then per block (indexes 0, 1, 2... in order) content_block_start,
content_block_delta*, content_block_stop, then message_delta (stop_reason and the usage totals, which the SDK
requires) and message_stop.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.anthropic.message import usage_body
from tests.fakes.anthropic.script import Block, TextBlock, ThinkingBlock, ToolUseBlock, Turn
from tests.fakes.shared import pieces

Event = dict[str, Any]  # always has "type"


def encode(event: Event) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def turn_events(turn: Turn, message_id: str, model: str) -> list[Event]:
    events: list[Event] = [
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": turn.model or model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**usage_body(turn.usage), "output_tokens": 1},
            },
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(turn.blocks):
        events.append({"type": "content_block_start", "index": index, "content_block": _start(block)})
        events.extend({"type": "content_block_delta", "index": index, "delta": delta} for delta in _deltas(block))
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": turn.final_stop_reason, "stop_sequence": None},
            "usage": usage_body(turn.usage),
        }
    )
    events.append({"type": "message_stop"})
    return events


def partial_events(turn: Turn, message_id: str, model: str) -> list[Event]:
    """The events of `turn` before its last content_block_stop: the stream breaks inside the last block."""
    events = turn_events(turn, message_id, model)
    stops = [position for position, event in enumerate(events) if event["type"] == "content_block_stop"]
    return events[: stops[-1]] if stops else events[:2]


# An SSE stream the client cannot read: a line that is no SSE field, then an event whose data is cut mid-JSON.
GARBAGE = b'this is not a server-sent event\nevent: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'


def _start(block: Block) -> dict[str, Any]:
    match block:
        case TextBlock():
            return {"type": "text", "text": ""}
        case ThinkingBlock():
            return {"type": "thinking", "thinking": "", "signature": ""}
        case ToolUseBlock():
            return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}


def _deltas(block: Block) -> list[dict[str, Any]]:
    match block:
        case TextBlock():
            return [{"type": "text_delta", "text": piece} for piece in pieces(block.text, block.pieces)]
        case ThinkingBlock():
            thoughts = [{"type": "thinking_delta", "thinking": piece} for piece in pieces(block.thinking, block.pieces)]
            return [*thoughts, {"type": "signature_delta", "signature": block.signature}]
        case ToolUseBlock():
            fragments = pieces(json.dumps(dict(block.input)), block.pieces)
            return [{"type": "input_json_delta", "partial_json": fragment} for fragment in fragments]
