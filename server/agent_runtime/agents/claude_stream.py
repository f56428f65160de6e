"""Claude Code's stream-json output, line by line, as block events.

With --include-partial-messages the CLI sends the API's own stream events (`stream_event`), then one
`assistant` line per finished content block, `user` lines with tool results, and a `result` line at the
end. Blocks get the ids the transcript parser gives the same blocks (claude_transcript), so a client can
match what it streamed with what GetSession returns later. A subagent's conversation is named by the
Task call's id (its lines' parent_tool_use_id). Claude Code 2.1 streams only a subagent's prompt, so its
other blocks are read from its transcript when the CLI is done (claude_code).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from google.protobuf import struct_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.agents import claude_transcript as ids
from agent_runtime.agents.anthropic_transcript import result_text, tool_result_id, user_message
from agent_runtime.agents.emitter import MAIN, BlockEmitter
from agent_runtime.agents.streamed_block import StreamedBlock, usage_event

SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
CONTEXT_TAG = re.compile(r"\[[^\]]*\]$")
_DELTAS = {
    "text_delta": ("text", events_pb2.DELTA_KIND_TEXT),
    "thinking_delta": ("thinking", events_pb2.DELTA_KIND_THINKING),
    "input_json_delta": ("partial_json", events_pb2.DELTA_KIND_TOOL_INPUT_JSON),
}


class ClaudeStream:
    def __init__(self, emitter: BlockEmitter) -> None:
        self._emitter = emitter
        self._messages: dict[str, tuple[str, str]] = {}  # the message (id, model) each conversation streams
        self._streaming: dict[str, StreamedBlock] = {}  # by block id
        self._indexes: Counter[str] = Counter()  # content blocks finished so far, per message id
        # Running tool calls by tool_use_id, with their conversation's emitter, until their result.
        self._tool_uses: dict[str, tuple[BlockEmitter, blocks_pb2.ConversationBlock]] = {}
        self._subagents: dict[str, blocks_pb2.ConversationBlock] = {}  # running subagent blocks, by tool_use_id
        self.result: dict[str, Any] | None = None
        self.shown: set[str] = set()  # subagent blocks already streamed
        # Subagents that ended, tool_use_id -> agentId: Claude Code streams none of a subagent's own blocks,
        # so they are read from its transcript once the CLI is done.
        self.ended_subagents: dict[str, str] = {}

    def feed(self, line: dict[str, Any]) -> None:
        conversation = line.get("parent_tool_use_id") or MAIN
        emitter = self._emitter.conversation(conversation)
        kind = line.get("type")
        if kind == "stream_event" and isinstance(line.get("event"), dict):
            self._stream_event(line["event"], conversation, emitter)
        elif kind == "assistant" and isinstance(line.get("message"), dict):
            self._assistant(line, emitter)
        elif kind == "user" and isinstance(line.get("message"), dict) and not line.get("isReplay"):
            self._user(line, emitter)
        elif kind == "system" and line.get("subtype") == "api_retry":
            self._emitter.whole(_retry_block(line))
        elif kind == "result":
            self.result = line
            self._emitter.emit(_result_usage(line))

    def tool_block_id(self, tool_use_id: str) -> str:
        """The id of the running call's tool_use block; empty for a subagent's call, whose blocks are not streamed."""
        running = self._tool_uses.get(tool_use_id)
        return running[1].id if running is not None else ""

    def show_status(self, tool_use_id: str, status: blocks_pb2.ToolStatus.ValueType) -> None:
        """A running call now waits for an answer, or runs again."""
        if (running := self._tool_uses.get(tool_use_id)) is not None:
            emitter, tool_use = running
            tool_use.tool_use.status = status
            emitter.update(tool_use)

    def stop(self) -> None:
        """The CLI is done, or was stopped: tool calls it never answered end in error."""
        for emitter, tool_use in self._tool_uses.values():
            tool_use.tool_use.status = blocks_pb2.TOOL_STATUS_ERROR
            emitter.update(tool_use)
        self._tool_uses.clear()

    def _stream_event(self, event: dict[str, Any], conversation: str, emitter: BlockEmitter) -> None:
        kind = event.get("type")
        if kind == "message_start":
            message = event["message"]
            self._messages[conversation] = (str(message.get("id", "")), str(message.get("model", "")))
        elif kind == "content_block_start":
            block = event["content_block"]
            message_id, model = self._messages.get(conversation, ("", ""))
            block_id = ids.block_id(message_id, event["index"])
            streamed = StreamedBlock(block_id, block["type"], block.get("name", ""), block.get("id", ""))
            if streamed.kind in ("text", "thinking", "tool_use"):
                self._streaming[block_id] = streamed
                emitter.start(streamed.block(model))
        elif kind == "content_block_delta":
            block_id = ids.block_id(self._messages.get(conversation, ("", ""))[0], event["index"])
            delta = event["delta"]
            if block_id in self._streaming and delta.get("type") in _DELTAS:
                field, delta_kind = _DELTAS[delta["type"]]
                self._streaming[block_id].text += delta[field]
                emitter.delta(block_id, delta[field], delta_kind)

    def _assistant(self, line: dict[str, Any], emitter: BlockEmitter) -> None:
        """One finished content block (or several, without partial messages): completes what streamed."""
        message = line["message"]
        message_id, model = str(message.get("id", "")), str(message.get("model", ""))
        for content in message.get("content") or []:
            block_id = ids.block_id(message_id, self._indexes[message_id])
            self._indexes[message_id] += 1
            if not isinstance(content, dict):
                continue
            block = ids.assistant_block(
                block_id, content, model, blocks_pb2.TOOL_STATUS_PENDING, bool(line.get("error"))
            )
            if block is None:
                continue
            streamed = self._streaming.pop(block_id, None)
            if streamed is None or not emitter.is_open(block_id):
                emitter.start(block)
            emitter.complete(block)
            if block.HasField("tool_use"):
                self._tool_started(block, emitter)

    def _tool_started(self, block: blocks_pb2.ConversationBlock, emitter: BlockEmitter) -> None:
        tool = block.tool_use
        running = blocks_pb2.ConversationBlock()
        running.CopyFrom(block)
        running.tool_use.status = blocks_pb2.TOOL_STATUS_RUNNING
        emitter.update(running)
        self._tool_uses[tool.tool_use_id] = (emitter, running)
        if tool.tool_name not in SUBAGENT_TOOLS:
            return
        name = _string(tool.input, "subagent_type")
        emitter.emit(
            events_pb2.SessionEvent(
                subagent_discovered=events_pb2.SubagentDiscovered(
                    subagent_id=tool.tool_use_id, name=name, tool_use_id=tool.tool_use_id
                )
            )
        )
        subagent = blocks_pb2.ConversationBlock(
            id=ids.subagent_block_id(tool.tool_use_id),
            subagent=blocks_pb2.SubagentBlock(
                subagent_id=tool.tool_use_id,
                name=name,
                input=_string(tool.input, "prompt"),
                status=blocks_pb2.TOOL_STATUS_RUNNING,
                tool_use_id=tool.tool_use_id,
            ),
        )
        emitter.start(subagent)
        self._subagents[tool.tool_use_id] = subagent

    def _user(self, line: dict[str, Any], emitter: BlockEmitter) -> None:
        content = line["message"].get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        parts = [part for part in parts if isinstance(part, dict)] if isinstance(parts, list) else []
        results = [part for part in parts if part.get("type") == "tool_result"]
        if not results:  # a subagent's prompt
            block_id = ids.user_message_id(str(line.get("uuid", "")))
            self.shown.add(block_id)
            emitter.whole(blocks_pb2.ConversationBlock(id=block_id, user_message=user_message(parts)))
        for part in results:
            self._tool_result(part, line.get("tool_use_result"), emitter)

    def _tool_result(self, part: dict[str, Any], details: Any, emitter: BlockEmitter) -> None:
        tool_use_id = str(part.get("tool_use_id", ""))
        is_error = bool(part.get("is_error"))
        output = result_text(part.get("content"))
        _, tool_use = self._tool_uses.pop(tool_use_id, (emitter, None))
        if tool_use is not None:
            tool_use.tool_use.status = blocks_pb2.TOOL_STATUS_ERROR if is_error else blocks_pb2.TOOL_STATUS_SUCCESS
            emitter.update(tool_use)
        subagent = self._subagents.pop(tool_use_id, None)
        if subagent is None:
            emitter.whole(
                blocks_pb2.ConversationBlock(
                    id=tool_result_id(tool_use_id),
                    tool_result=blocks_pb2.ToolResultBlock(
                        tool_use_id=tool_use_id, output=struct_pb2.Value(string_value=output), is_error=is_error
                    ),
                )
            )
            return
        details = details if isinstance(details, dict) else {}
        ids.finish_subagent(subagent.subagent, part, details)
        if isinstance(details.get("agentId"), str):
            self.ended_subagents[tool_use_id] = details["agentId"]
        emitter.complete(subagent)
        emitter.emit(
            events_pb2.SessionEvent(
                subagent_completed=events_pb2.SubagentCompleted(
                    subagent_id=tool_use_id, status=subagent.subagent.status
                )
            )
        )


def _string(values: struct_pb2.Struct, key: str) -> str:
    value = values.fields.get(key)
    return value.string_value if value is not None else ""


def _seconds(milliseconds: object) -> str:
    """A delay as a person reads it: "0.6 s" for 560.5634 ms."""
    return f"{milliseconds / 1000:.1f} s" if isinstance(milliseconds, int | float) else "a moment"


def _retry_block(line: dict[str, Any]) -> blocks_pb2.ConversationBlock:
    message = (
        f"The model API answered {line.get('error_status')}; retry {line.get('attempt')} of "
        f"{line.get('max_retries')} in {_seconds(line.get('retry_delay_ms'))}"
    )
    return blocks_pb2.ConversationBlock(
        id=f"retry-{line.get('uuid', '')}", system=blocks_pb2.SystemBlock(subtype="status", message=message)
    )


def _result_usage(line: dict[str, Any]) -> events_pb2.SessionEvent:
    usage = _mapping(line.get("usage"))
    # Claude Code tags a model with its context window ("claude-opus-4-8[1m]"); the blocks name it bare.
    models = dict.fromkeys(CONTEXT_TAG.sub("", name) for name in _mapping(line.get("modelUsage")))
    return usage_event(
        ", ".join(models),
        int(usage.get("input_tokens") or 0),
        int(usage.get("output_tokens") or 0),
        int(usage.get("cache_read_input_tokens") or 0),
        int(usage.get("cache_creation_input_tokens") or 0),
        float(line.get("total_cost_usd") or 0.0),
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
