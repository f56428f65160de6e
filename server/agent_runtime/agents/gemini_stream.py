"""The Gemini CLI's (0.61.0) `-o stream-json` output, line by line, as block events.

The CLI writes one JSON object per line:
- `{"type": "init", "session_id", "model"}`;
- `{"type": "message", "role": "user", "content"}`: the prompt, which the runtime emits itself as the turn's
  user_message block, so it is ignored here;
- `{"type": "message", "role": "assistant", "content", "delta": true}`: a piece of the model's text. One model
  response's pieces come in a run, then its tool calls, so a text block lasts until a line of another kind;
- `{"type": "tool_use", "tool_name", "tool_id", "parameters"}`, then, once the tool ran,
  `{"type": "tool_result", "tool_id", "status": "success"|"error", "output"?, "error"?: {"type", "message"}}`
  (`output` only when the tool's display is text: a shell command's output, not write_file's diff);
- `{"type": "error", "severity": "warning"|"error", "message"}`: a loop detected, the turn limit, a response the
  CLI found invalid (then the result line says only "error", so the message is kept for it);
- `{"type": "result", "status": "success"|"error", "error"?: {"type", "message"}, "stats"}` at the end; an API
  error after the CLI's own retries ends the run this way too, with a non-zero exit code.

Thoughts, message ids and the model of each response are not in the stream. Tool blocks get the ids the
transcript parser gives them (gemini_transcript: the call id the tool_id field carries); text and status
blocks cannot, and are "<session id>@<init time>-<n>".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2, timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.agents import gemini_transcript as ids
from agent_runtime.agents.anthropic_transcript import tool_result_id
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.agents.streamed_block import usage_event


@dataclass(frozen=True)
class Result:
    """How the CLI's run ended: its `result` line, and the error it reported (the line's own, else the last
    error line before it)."""

    ok: bool
    error_type: str
    error_message: str
    line: dict[str, Any]


class GeminiStream:
    def __init__(self, emitter: BlockEmitter, model: str) -> None:
        self._emitter = emitter
        self._model = model
        self._prefix = ""  # of the ids of text and status blocks: from the init line
        self._count = 0
        self._text: blocks_pb2.ConversationBlock | None = None  # the text block being streamed
        self._tools: dict[str, blocks_pb2.ConversationBlock] = {}  # running tool calls, by call id
        self._claimed: set[str] = set()  # running calls a question of the CLI's was matched with
        self._error = ("", "")  # the last error line's (type, message)
        self.result: Result | None = None

    def feed(self, line: dict[str, Any]) -> None:
        kind = line.get("type")
        if kind == "message" and line.get("role") == "assistant":
            self._delta(str(line.get("content") or ""), line)
            return
        self._close_text()
        if kind == "init":
            self._prefix = f"{line.get('session_id', '')}@{line.get('timestamp', '')}"
            self._model = self._model or str(line.get("model") or "")
        elif kind == "tool_use":
            self._tool_use(line)
        elif kind == "tool_result":
            self._tool_result(line)
        elif kind == "error":
            self._error_line(line)
        elif kind == "result":
            self._result(line)

    def claim_call(self, tool_names: Collection[str], tool_input: Mapping[str, Any]) -> str:
        """The id of the earliest running call of one of the tools that no question was matched with yet,
        one with this very input first; empty when there is none."""
        unclaimed = [
            call_id
            for call_id, block in self._tools.items()
            if block.tool_use.tool_name in tool_names and call_id not in self._claimed
        ]
        same = [
            call_id
            for call_id in unclaimed
            if json_format.MessageToDict(self._tools[call_id].tool_use.input) == tool_input
        ]
        chosen = next(iter(same or unclaimed), "")
        if chosen:
            self._claimed.add(chosen)
        return chosen

    def tool_block_id(self, call_id: str) -> str:
        running = self._tools.get(call_id)
        return running.id if running is not None else ""

    def show_status(self, call_id: str, status: blocks_pb2.ToolStatus.ValueType) -> None:
        """A running call now waits for an answer, or runs again."""
        if (running := self._tools.get(call_id)) is not None:
            running.tool_use.status = status
            self._emitter.update(_copy(running))

    def stop(self) -> None:
        """The stream ended: the text block is completed, and tool calls that got no result end in error."""
        self._close_text()
        for running in self._tools.values():
            running.tool_use.status = blocks_pb2.TOOL_STATUS_ERROR
            self._emitter.update(running)
        self._tools.clear()

    def _next_id(self) -> str:
        self._count += 1
        return f"{self._prefix or 'gemini'}-{self._count}"

    def _delta(self, piece: str, line: dict[str, Any]) -> None:
        if not piece:
            return
        if self._text is None:
            self._text = blocks_pb2.ConversationBlock(
                id=self._next_id(), assistant_text=blocks_pb2.AssistantTextBlock(model=self._model)
            )
            _stamp(self._text, line)
            self._emitter.start(_copy(self._text))
        self._text.assistant_text.content += piece
        self._emitter.delta(self._text.id, piece, events_pb2.DELTA_KIND_TEXT)

    def _close_text(self) -> None:
        if self._text is not None:
            self._emitter.complete(self._text)
            self._text = None

    def _tool_use(self, line: dict[str, Any]) -> None:
        call_id = str(line.get("tool_id") or "")
        tool_use = blocks_pb2.ToolUseBlock(
            tool_name=str(line.get("tool_name") or ""), tool_use_id=call_id, status=blocks_pb2.TOOL_STATUS_PENDING
        )
        if isinstance(line.get("parameters"), dict):
            tool_use.input.update(line["parameters"])
        block = blocks_pb2.ConversationBlock(id=ids.tool_use_block_id(call_id), tool_use=tool_use)
        _stamp(block, line)
        self._emitter.start(_copy(block))
        self._emitter.complete(_copy(block))
        block.tool_use.status = blocks_pb2.TOOL_STATUS_RUNNING  # yolo mode: the CLI runs it straight away
        self._emitter.update(_copy(block))
        self._tools[call_id] = block

    def _tool_result(self, line: dict[str, Any]) -> None:
        call_id = str(line.get("tool_id") or "")
        failed = line.get("status") != "success"
        running = self._tools.pop(call_id, None)
        self._claimed.discard(call_id)
        if running is not None:
            running.tool_use.status = blocks_pb2.TOOL_STATUS_ERROR if failed else blocks_pb2.TOOL_STATUS_SUCCESS
            self._emitter.update(running)
        error = _object(line, "error")
        output = str(error.get("message") or line.get("output") or "") if failed else str(line.get("output") or "")
        result = blocks_pb2.ToolResultBlock(
            tool_use_id=call_id, output=struct_pb2.Value(string_value=output), is_error=failed
        )
        block = blocks_pb2.ConversationBlock(id=tool_result_id(call_id), tool_result=result)
        _stamp(block, line)
        self._emitter.whole(block)

    def _error_line(self, line: dict[str, Any]) -> None:
        message = str(line.get("message") or "")
        severe = line.get("severity") == "error"
        if severe:
            self._error = ("error", message)
        system = blocks_pb2.SystemBlock(subtype="error" if severe else "status", message=message)
        block = blocks_pb2.ConversationBlock(id=self._next_id(), system=system)
        _stamp(block, line)
        self._emitter.whole(block)

    def _result(self, line: dict[str, Any]) -> None:
        ok = line.get("status") == "success"
        error = _object(line, "error")
        error_type, message = (str(error.get("type") or ""), str(error.get("message") or "")) if error else self._error
        self.result = Result(ok, "" if ok else error_type, "" if ok else message, line)
        stats = _object(line, "stats")
        if _count(stats, "total_tokens"):
            models = _object(stats, "models")
            self._emitter.emit(
                usage_event(
                    ", ".join(models) or self._model,
                    _count(stats, "input"),
                    _count(stats, "output_tokens"),
                    cache_read=_count(stats, "cached"),
                )
            )


def _object(line: dict[str, Any], key: str) -> dict[str, Any]:
    value = line.get(key)
    return value if isinstance(value, dict) else {}


def _count(stats: dict[str, Any], key: str) -> int:
    value = stats.get(key)
    return int(value) if isinstance(value, int | float) else 0


def _stamp(block: blocks_pb2.ConversationBlock, line: dict[str, Any]) -> None:
    """The block happened when the CLI wrote the line."""
    stamp = timestamp_pb2.Timestamp()
    try:
        stamp.FromJsonString(str(line.get("timestamp")))
    except ValueError:
        return
    block.timestamp.CopyFrom(stamp)


def _copy(block: blocks_pb2.ConversationBlock) -> blocks_pb2.ConversationBlock:
    """A snapshot: an event must not change when the block it was made from goes on changing."""
    copied = blocks_pb2.ConversationBlock()
    copied.CopyFrom(block)
    return copied
