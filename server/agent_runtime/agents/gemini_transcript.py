"""Gemini CLI (0.61.0) chat transcripts as conversation blocks, for GetSession and after a restart.

The CLI writes a session to `~/.gemini/tmp/<project>/chats/session-<YYYY-MM-DDTHH-MM>-<session id[:8]>.jsonl`,
where <project> is the working directory's base name slugified (lower case, runs of other characters than
a-z and 0-9 as one "-"; "/workspace" gives "workspace"). The file is a log, replayed in order:

- a metadata record: `{"sessionId", "projectHash", "startTime", "lastUpdated", "kind"}`;
- message records: `{"id", "timestamp", "type": "user"|"gemini"|"info"|"warning"|"error", "content", ...}`. A
  record whose id was seen before replaces that message where it stands: a gemini message is written with its
  text and thoughts, then again with its `toolCalls` (each with its `result` as functionResponse parts);
- `{"$set": {...}}`, metadata updates; one with `messages` replaces the whole list. The CLI rewrites the list
  so after a failed turn (dropping the turn, user message included) and on --resume (earlier messages in the
  API's parts form, with new timestamps and without model, thoughts or toolCalls: thoughts become
  `thought: true` parts, tool calls functionCall parts, results `<message id>_response` user messages);
- `{"$rewindTo": id}`: that message and every later one are dropped.

Block ids: "<message id>-<index>", index counting a gemini message's thoughts then its content parts (a string
content is one part), which the --resume rewrite keeps; a user message's block is the message id. Tool blocks
take the call id ("<tool name>__<id>", which the stream-json tool_use and tool_result lines carry too): the
tool_use block is "<call id>", its result "<call id>-result". So the blocks keep their ids across a resume,
and the tool blocks gemini_stream emits live are the ones rebuilt here.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2
from agent_runtime.agents.anthropic_transcript import tool_result_id

# User text the CLI adds for the model, not typed by anyone (the CLI skips it too when it resumes).
_CONTEXT_PREFIXES = ("<session_context>", "<hook_context>")
_STATUS = {
    "success": blocks_pb2.TOOL_STATUS_SUCCESS,
    "error": blocks_pb2.TOOL_STATUS_ERROR,
    "cancelled": blocks_pb2.TOOL_STATUS_ERROR,
    "executing": blocks_pb2.TOOL_STATUS_RUNNING,
}


def block_id(message_id: str, index: int) -> str:
    return f"{message_id}-{index}"


def tool_use_block_id(call_id: str) -> str:
    return call_id


def parse(raw: str) -> list[blocks_pb2.ConversationBlock]:
    """The conversation's blocks, oldest first. Unreadable lines and messages are skipped; never raises."""
    try:
        return _Blocks(_replay(raw).messages).build()
    except Exception:  # a transcript is the CLI's file, not ours: whatever it holds, GetSession must answer
        return []


def resumable(raw: str) -> str:
    """The transcript rewritten for `gemini --resume`: the messages as they stand, one line each, without the
    user messages that only repeat tool results already given.

    The CLI records each tool result twice (in the gemini message's toolCalls, and as a user message of
    functionResponse parts) and on --resume sends both, so the resumed request answers one function call with
    two function responses, which the Gemini API refuses ("Please ensure that the number of function response
    parts is equal to the number of function call parts of the function call turn.").
    """
    log = _replay(raw)
    given: set[str] = set()
    lines = [json.dumps(log.metadata, ensure_ascii=False)]
    for message in log.messages:
        if message.get("type") == "gemini":
            given.update(call["id"] for call in _tool_calls(message) if call.get("result"))
        content = message.get("content")
        if message.get("type") == "user" and isinstance(content, list):
            kept = [part for part in content if _response_id(part) not in given]
            given.update(call_id for call_id in map(_response_id, content) if call_id is not None)
            if not kept:
                continue
            message = {**message, "content": kept}
        lines.append(json.dumps(message, ensure_ascii=False))
    return "\n".join(lines) + "\n"


@dataclass
class _Log:
    metadata: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)


def _replay(raw: str) -> _Log:
    """The session's metadata and messages as the CLI loads them, replaying the file's records in order."""
    metadata: dict[str, Any] = {}
    messages: dict[str, dict[str, Any]] = {}  # insertion-ordered: a replaced message keeps its place
    for record in _records(raw):
        if isinstance(record.get("$rewindTo"), str):
            ids = list(messages)
            start = ids.index(record["$rewindTo"]) if record["$rewindTo"] in ids else 0
            for message_id in ids[start:]:
                del messages[message_id]
        elif isinstance(record.get("id"), str):
            messages[record["id"]] = record
        elif isinstance(record.get("$set"), dict):
            update = record["$set"]
            if isinstance(update.get("messages"), list):
                messages = {
                    m["id"]: m for m in update["messages"] if isinstance(m, dict) and isinstance(m.get("id"), str)
                }
            metadata.update({key: value for key, value in update.items() if key != "messages"})
        elif isinstance(record.get("sessionId"), str):
            metadata.update({key: value for key, value in record.items() if key != "messages"})
            listed = record["messages"] if isinstance(record.get("messages"), list) else []
            for message in listed:  # the older whole-file format (session-*.json)
                if isinstance(message, dict) and isinstance(message.get("id"), str):
                    messages[message["id"]] = message
    return _Log(metadata, list(messages.values()))


def _records(raw: str) -> Iterator[dict[str, Any]]:
    """The file's JSON lines; a file with none is tried as one JSON document (the older session-*.json)."""
    found = False
    for line in raw.splitlines():
        try:
            record = json.loads(line) if line.strip() else None
        except ValueError:
            continue
        if isinstance(record, dict):
            found = True
            yield record
    if not found:
        with contextlib.suppress(ValueError):
            whole = json.loads(raw)
            if isinstance(whole, dict):
                yield whole


class _Blocks:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.model = next((str(m["model"]) for m in messages if m.get("type") == "gemini" and m.get("model")), "")
        # Every tool result in the transcript, by call id, for the calls the rewrite left without their toolCalls.
        self.responses: dict[str, dict[str, Any]] = {}
        for message in messages:
            for call in _tool_calls(message):
                for part in call["result"] if isinstance(call.get("result"), list) else []:
                    self._note_response(part)
            for part in message["content"] if isinstance(message.get("content"), list) else []:
                self._note_response(part)
        self.used: set[str] = set()  # block ids given so far: a tool call or result is shown once
        self.found: list[blocks_pb2.ConversationBlock] = []

    def _note_response(self, part: Any) -> None:
        call_id = _response_id(part)
        if call_id is not None:
            self.responses.setdefault(call_id, part["functionResponse"])

    def build(self) -> list[blocks_pb2.ConversationBlock]:
        for message in self.messages:
            with contextlib.suppress(Exception):  # one unreadable message costs only its own blocks
                self._message(message)
        return self.found

    def _add(self, block: blocks_pb2.ConversationBlock, time: str) -> None:
        if block.id in self.used:
            return
        self.used.add(block.id)
        stamp = _timestamp(time)
        if stamp is not None:
            block.timestamp.CopyFrom(stamp)
        self.found.append(block)

    def _message(self, message: dict[str, Any]) -> None:
        kind, message_id, time = message.get("type"), str(message.get("id")), str(message.get("timestamp", ""))
        content = message.get("content")
        if kind == "user":
            sent = _user(_user_text(message.get("displayContent")) or _user_text(content), content)
            if sent.content or sent.images:
                self._add(blocks_pb2.ConversationBlock(id=message_id, user_message=sent), time)
            for part in content if isinstance(content, list) else []:
                if _response_id(part) is not None:
                    self._result(part["functionResponse"], None, time)
        elif kind == "gemini":
            self._gemini(message, message_id, time)
        elif kind == "error":
            self._add(
                blocks_pb2.ConversationBlock(id=message_id, error=blocks_pb2.ErrorBlock(message=_text(content))), time
            )
        elif kind in ("info", "warning"):
            system = blocks_pb2.SystemBlock(subtype="status", message=_text(content))
            self._add(blocks_pb2.ConversationBlock(id=message_id, system=system), time)

    def _gemini(self, message: dict[str, Any], message_id: str, time: str) -> None:
        model = str(message.get("model") or self.model)
        thoughts = message["thoughts"] if isinstance(message.get("thoughts"), list) else []
        parts: list[Any] = [{"thought": thought} for thought in thoughts]
        content = message.get("content")
        parts.extend(content if isinstance(content, list) else [{"text": content}] if isinstance(content, str) else [])
        for index, part in enumerate(parts):
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("thought"), dict):  # a recorded thought: {subject, description, timestamp}
                thought = part["thought"]
                summary, text = str(thought.get("subject", "")), str(thought.get("description", ""))
                self._add(_thinking(block_id(message_id, index), text, summary), str(thought.get("timestamp") or time))
            elif isinstance(part.get("text"), str) and part.get("thought") is True:
                summary, text = _split_thought(part["text"])
                self._add(_thinking(block_id(message_id, index), text, summary), time)
            elif isinstance(part.get("text"), str) and part["text"]:
                said = blocks_pb2.AssistantTextBlock(content=part["text"], model=model)
                self._add(blocks_pb2.ConversationBlock(id=block_id(message_id, index), assistant_text=said), time)
            elif isinstance(part.get("functionCall"), dict):
                self._tool_use(part["functionCall"], time)
        calls = _tool_calls(message)
        for call in calls:
            self._tool_use(call, time)
        for call in calls:
            results = call["result"] if isinstance(call.get("result"), list) else []
            response = next((p["functionResponse"] for p in results if _response_id(p) == call["id"]), None)
            if response is not None or call.get("status") in ("error", "cancelled"):
                self._result(response or {"id": call["id"]}, call, str(call.get("timestamp") or time))

    def _tool_use(self, call: dict[str, Any], time: str) -> None:
        call_id = str(call.get("id", ""))
        if not call_id:
            return
        tool_use = blocks_pb2.ToolUseBlock(
            tool_name=str(call.get("name", "")),
            tool_use_id=call_id,
            status=self._status(call),
            display_name=str(call.get("displayName", "")),
            description=str(call.get("description", "")),
        )
        if isinstance(call.get("args"), dict):
            tool_use.input.update(call["args"])
        self._add(blocks_pb2.ConversationBlock(id=tool_use_block_id(call_id), tool_use=tool_use), time)

    def _status(self, call: dict[str, Any]) -> blocks_pb2.ToolStatus.ValueType:
        if "status" in call:
            return _STATUS.get(str(call["status"]), blocks_pb2.TOOL_STATUS_PENDING)
        response = self.responses.get(str(call.get("id")))
        if response is None:
            return blocks_pb2.TOOL_STATUS_PENDING
        return blocks_pb2.TOOL_STATUS_ERROR if _is_error(response) else blocks_pb2.TOOL_STATUS_SUCCESS

    def _result(self, response: dict[str, Any], call: dict[str, Any] | None, time: str) -> None:
        call_id = str(response.get("id", ""))
        failed = _is_error(response) or (call is not None and call.get("status") in ("error", "cancelled"))
        result = blocks_pb2.ToolResultBlock(tool_use_id=call_id, output=_output(response), is_error=failed)
        self._add(blocks_pb2.ConversationBlock(id=tool_result_id(call_id), tool_result=result), time)


def _tool_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    calls = message.get("toolCalls") if message.get("type") == "gemini" else None
    return [c for c in calls if isinstance(c, dict) and isinstance(c.get("id"), str)] if isinstance(calls, list) else []


def _response_id(part: Any) -> str | None:
    """The call id a functionResponse part answers, or None for any other part."""
    if isinstance(part, dict) and isinstance(part.get("functionResponse"), dict):
        call_id = part["functionResponse"].get("id")
        return call_id if isinstance(call_id, str) else None
    return None


def _is_error(response: dict[str, Any]) -> bool:
    return isinstance(response.get("response"), dict) and "error" in response["response"]


def _output(response: dict[str, Any]) -> struct_pb2.Value:
    """What the tool gave the model: its output or error text, else the whole response as a structure."""
    body = response.get("response")
    if isinstance(body, dict) and set(body) <= {"output", "error"} and body:
        return struct_pb2.Value(string_value=str(body.get("error", body.get("output", ""))))
    value = struct_pb2.Value()
    if isinstance(body, dict):
        value.struct_value.update(body)
    elif isinstance(body, str):
        value.string_value = body
    return value


def _user_text(content: Any) -> str:
    if isinstance(content, str):
        return "" if content.lstrip().startswith(_CONTEXT_PREFIXES) else content
    if not isinstance(content, list):
        return ""
    texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "".join(text for text in texts if not text.lstrip().startswith(_CONTEXT_PREFIXES))


def _user(text: str, content: Any) -> blocks_pb2.UserMessageBlock:
    """What the user sent: the text they typed, and the images among the message's parts."""
    sent = blocks_pb2.UserMessageBlock(content=text)
    for part in content if isinstance(content, list) else []:
        inline = part.get("inlineData") if isinstance(part, dict) else None
        if isinstance(inline, dict) and str(inline.get("mimeType", "")).startswith("image/"):
            sent.images.add(data=base64.b64decode(str(inline.get("data", ""))), media_type=str(inline["mimeType"]))
    return sent


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _thinking(block_id: str, text: str, summary: str) -> blocks_pb2.ConversationBlock:
    return blocks_pb2.ConversationBlock(id=block_id, thinking=blocks_pb2.ThinkingBlock(content=text, summary=summary))


def _split_thought(raw: str) -> tuple[str, str]:
    """A thought part's "**Subject** description" as (subject, description), as the CLI reads it."""
    start = raw.find("**")
    end = raw.find("**", start + 2) if start != -1 else -1
    if end == -1:
        return "", raw.strip()
    return raw[start + 2 : end].strip(), (raw[:start] + raw[end + 2 :]).strip()


def _timestamp(text: str) -> timestamp_pb2.Timestamp | None:
    stamp = timestamp_pb2.Timestamp()
    try:
        stamp.FromJsonString(text)
    except ValueError:
        return None
    return stamp
