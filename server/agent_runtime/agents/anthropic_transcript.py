"""The `anthropic` architecture's transcript: JSON lines, one message each, with the ids and times the
streamed blocks had, so the blocks rebuilt from it (GetSession, after a restart) are the same blocks.

    {"id": "msg_01...", "time": "2026-11-22T01:02:03.456Z", "message": {"role": "assistant", "content": [...]}}

A user message's id is its user_message block's; an assistant message's is the API's message id, and its
blocks are "<id>-<index>"; a tool result's block is "<tool_use_id>-result".
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2

Entry = dict[str, Any]


def entry(entry_id: str, message: dict[str, Any], time: timestamp_pb2.Timestamp, model: str = "") -> Entry:
    """A transcript line; `model` for an assistant message (the API's message takes no such field)."""
    line = {"id": entry_id, "time": time.ToJsonString(), "message": message}
    return {**line, "model": model} if model else line


def parse(raw_transcript: str) -> list[Entry]:
    return [json.loads(line) for line in raw_transcript.splitlines() if line.strip()]


def serialize(entries: Iterable[Entry]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)


def api_messages(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    return [e["message"] for e in entries]


def tool_result_id(tool_use_id: str) -> str:
    return f"{tool_use_id}-result"


def user_content(message: blocks_pb2.UserMessageBlock) -> str | list[dict[str, Any]]:
    """A user message as the Messages API takes it: its text, or its images then its text."""
    if not message.images:
        return message.content
    parts: list[dict[str, Any]] = []
    for image in message.images:
        if image.HasField("url"):
            parts.append({"type": "image", "source": {"type": "url", "url": image.url}})
        else:
            data = base64.b64encode(image.data).decode()
            parts.append({"type": "image", "source": {"type": "base64", "media_type": image.media_type, "data": data}})
    if message.content:
        parts.append({"type": "text", "text": message.content})
    return parts


def user_message(content: list[dict[str, Any]]) -> blocks_pb2.UserMessageBlock:
    """A user message's content parts (text and images) as the block's message."""
    message = blocks_pb2.UserMessageBlock(
        content="".join(p.get("text", "") for p in content if p.get("type") == "text")
    )
    for part in content:
        source = part.get("source", {}) if part.get("type") == "image" else None
        if source and source.get("type") == "url":
            message.images.add(url=source["url"])
        elif source:
            message.images.add(data=base64.b64decode(source["data"]), media_type=source.get("media_type", ""))
    return message


def result_text(content: Any) -> str:
    """A tool result's content: a string, or the text of its parts."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def blocks(entries: Sequence[Entry], model: str = "") -> list[blocks_pb2.ConversationBlock]:
    outcomes = {
        part["tool_use_id"]: bool(part.get("is_error"))
        for e in entries
        if isinstance(e["message"]["content"], list)
        for part in e["message"]["content"]
        if part.get("type") == "tool_result"
    }
    found: list[blocks_pb2.ConversationBlock] = []
    for e in entries:
        time = timestamp_pb2.Timestamp()
        time.FromJsonString(e["time"])
        message = e["message"]
        content = message["content"]
        if message["role"] == "user" and isinstance(content, str):
            found.append(
                blocks_pb2.ConversationBlock(
                    id=e["id"], timestamp=time, user_message=blocks_pb2.UserMessageBlock(content=content)
                )
            )
            continue
        if message["role"] == "user" and not any(part.get("type") == "tool_result" for part in content):
            found.append(blocks_pb2.ConversationBlock(id=e["id"], timestamp=time, user_message=user_message(content)))
            continue
        for index, part in enumerate(content):
            block = _block(e["id"], index, part, outcomes, e.get("model", model))
            if block is not None:
                block.timestamp.CopyFrom(time)
                found.append(block)
    return found


def _block(
    message_id: str, index: int, part: dict[str, Any], outcomes: dict[str, bool], model: str
) -> blocks_pb2.ConversationBlock | None:
    status = blocks_pb2.TOOL_STATUS_PENDING
    if part.get("type") == "tool_use" and part.get("id") in outcomes:
        status = blocks_pb2.TOOL_STATUS_ERROR if outcomes[part["id"]] else blocks_pb2.TOOL_STATUS_SUCCESS
    return part_block(f"{message_id}-{index}", part, model, status)


def part_block(
    block_id: str,
    part: dict[str, Any],
    model: str = "",
    tool_status: blocks_pb2.ToolStatus.ValueType = blocks_pb2.TOOL_STATUS_PENDING,
) -> blocks_pb2.ConversationBlock | None:
    """A content part of a Messages API message as a block; None for parts that are not one."""
    kind = part.get("type")
    if kind == "text":
        return blocks_pb2.ConversationBlock(
            id=block_id, assistant_text=blocks_pb2.AssistantTextBlock(content=part["text"], model=model)
        )
    if kind == "thinking":
        return blocks_pb2.ConversationBlock(id=block_id, thinking=blocks_pb2.ThinkingBlock(content=part["thinking"]))
    if kind == "tool_use":
        tool_input = struct_pb2.Struct()
        tool_input.update(part.get("input") or {})
        return blocks_pb2.ConversationBlock(
            id=block_id,
            tool_use=blocks_pb2.ToolUseBlock(
                tool_name=part["name"], tool_use_id=part["id"], input=tool_input, status=tool_status
            ),
        )
    if kind == "tool_result":
        return blocks_pb2.ConversationBlock(
            id=tool_result_id(part["tool_use_id"]),
            tool_result=blocks_pb2.ToolResultBlock(
                tool_use_id=part["tool_use_id"],
                output=struct_pb2.Value(string_value=result_text(part.get("content"))),
                is_error=bool(part.get("is_error")),
            ),
        )
    return None
