"""The JSON bodies of the Messages API: a whole message (non-streaming answers), usage, and errors."""

from __future__ import annotations

from typing import Any

from tests.fakes.anthropic.script import ApiError, Block, TextBlock, ThinkingBlock, ToolUseBlock, Turn, Usage


def message_body(turn: Turn, message_id: str, model: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": turn.model or model,
        "content": [_block(block) for block in turn.blocks],
        "stop_reason": turn.final_stop_reason,
        "stop_sequence": None,
        "usage": usage_body(turn.usage),
    }


def usage_body(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
    }


def error_body(error: ApiError) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error.type, "message": error.message}}


def _block(block: Block) -> dict[str, Any]:
    match block:
        case TextBlock():
            return {"type": "text", "text": block.text}
        case ThinkingBlock():
            return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
        case ToolUseBlock():
            return {"type": "tool_use", "id": block.id, "name": block.name, "input": dict(block.input)}
