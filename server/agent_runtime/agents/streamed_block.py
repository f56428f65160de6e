"""A content block of a Messages API response as it streams (the native loop's and Claude Code's), and
the usage event a response ends with."""

from __future__ import annotations

import json

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2


class StreamedBlock:
    """A block being streamed: its id, kind and what has arrived so far."""

    def __init__(self, block_id: str, kind: str, name: str = "", tool_use_id: str = "") -> None:
        self.block_id = block_id
        self.kind = kind
        self.name = name
        self.tool_use_id = tool_use_id
        self.text = ""

    def block(
        self, model: str, status: blocks_pb2.ToolStatus.ValueType = blocks_pb2.TOOL_STATUS_PENDING
    ) -> blocks_pb2.ConversationBlock:
        block = blocks_pb2.ConversationBlock(id=self.block_id)
        if self.kind == "text":
            block.assistant_text.CopyFrom(blocks_pb2.AssistantTextBlock(content=self.text, model=model))
        elif self.kind == "thinking":
            block.thinking.CopyFrom(blocks_pb2.ThinkingBlock(content=self.text))
        else:
            block.tool_use.CopyFrom(
                blocks_pb2.ToolUseBlock(tool_name=self.name, tool_use_id=self.tool_use_id, status=status)
            )
            if self.text:
                block.tool_use.input.update(json.loads(self.text))
        return block


def usage_event(
    model: str, input_tokens: int, output_tokens: int, cache_read: int = 0, cache_write: int = 0, cost_usd: float = 0.0
) -> events_pb2.SessionEvent:
    counts = blocks_pb2.Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        total_tokens=input_tokens + output_tokens,
    )
    return events_pb2.SessionEvent(
        metadata_update=events_pb2.MetadataUpdate(usage=counts, model=model, cost_usd=cost_usd)
    )
