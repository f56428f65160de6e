"""Claude Code's stored transcripts as conversation blocks, for GetSession and after a restart.

Claude Code writes a session to `<config>/projects/<cwd, non-alphanumerics as "-">/<session_id>.jsonl`, one JSON
object per line, and each subagent's run to `agent-<agentId>.jsonl`: next to the session's file up to 2.0.x, in
`<session_id>/subagents/` from 2.1.x. Only `user` and `assistant` lines are conversation; the rest (file history,
queue operations, attachments, system lines, ...) is Claude Code's own bookkeeping.

An assistant line carries one content block of an API message, and the lines of one message share its id, so
the block ids the live stream gives (claude_stream) are derived the same way from the same data.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2
from agent_runtime.agents.anthropic_transcript import part_block, result_text, tool_result_id, user_message


def block_id(message_id: str, index: int) -> str:
    """An assistant content block: `index` is its position among its API message's content blocks."""
    return f"{message_id}-{index}"


def user_message_id(uuid: str) -> str:
    return f"user-{uuid}"


def subagent_block_id(tool_use_id: str) -> str:
    return f"{tool_use_id}-subagent"


def assistant_block(
    block_id: str,
    part: dict[str, Any],
    model: str,
    tool_status: blocks_pb2.ToolStatus.ValueType,
    api_error: bool = False,
) -> blocks_pb2.ConversationBlock | None:
    """A content block of an assistant message; Claude Code's own message for a failed API call is an error."""
    if api_error:
        error = blocks_pb2.ErrorBlock(message=str(part.get("text", "")), code="API_ERROR")
        return blocks_pb2.ConversationBlock(id=block_id, error=error)
    return part_block(block_id, part, model, tool_status)


def finish_subagent(subagent: blocks_pb2.SubagentBlock, result: dict[str, Any], details: dict[str, Any]) -> None:
    """Fills in how a subagent ended from its Task call's tool_result and the CLI's toolUseResult details."""
    status = _AGENT_STATUS.get(str(details.get("status")), blocks_pb2.TOOL_STATUS_ERROR)
    subagent.status = blocks_pb2.TOOL_STATUS_ERROR if result.get("is_error") else status
    subagent.output = result_text(details.get("content"))  # the tool result adds a note for the model
    if isinstance(details.get("totalDurationMs"), int | float):
        subagent.duration.FromMilliseconds(int(details["totalDurationMs"]))


@dataclass(frozen=True)
class Parsed:
    blocks: list[blocks_pb2.ConversationBlock]
    subagents: list[blocks_pb2.SubagentConversation]


def with_times(raw: str, times: Mapping[str, str]) -> str:
    """The transcript with each user line whose uuid `times` names stamped with that time instead."""
    if not times:
        return raw
    lines = raw.split("\n")
    for number, line in enumerate(lines):
        if '"user"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line being written; the next read has it whole
        if isinstance(entry, dict) and entry.get("type") == "user" and entry.get("uuid") in times:
            entry["timestamp"] = times[entry["uuid"]]
            lines[number] = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    return "\n".join(lines)


def parse(main: str, subagents: Mapping[str, str]) -> Parsed:
    """main: raw JSONL of the main session; subagents: subagent transcript file stem (e.g. "agent-6d933f1b") -> raw
    JSONL. A subagent's conversation takes the id of the Task call that started it, as in the live stream; one
    that no Task call points to keeps its file stem. Files of other sessions are left out."""
    lines = _lines(main)
    session = _session_id(lines)
    # A side chain's lines are a subagent's, not the main conversation, should they be in the session's file.
    reader = _Reader(line for line in lines if line.get("isSidechain") is not True)
    readers = {}
    for stem, raw in sorted(subagents.items()):
        sub_lines = _lines(raw)
        if session is not None and _session_id(sub_lines) == session:
            readers[stem] = _Reader(sub_lines)
    started = {agent_id: block for r in [reader, *readers.values()] for agent_id, block in r.agents.items()}
    conversations = []
    for agent_id, block in started.items():
        if (found := readers.pop(f"agent-{agent_id}", None)) is not None:
            conversations.append(
                blocks_pb2.SubagentConversation(subagent_id=block.subagent_id, name=block.name, blocks=found.blocks)
            )
    conversations += [
        blocks_pb2.SubagentConversation(subagent_id=stem, blocks=r.blocks) for stem, r in readers.items() if r.blocks
    ]
    return Parsed(reader.blocks, conversations)


def subagent_blocks(raw: str) -> list[blocks_pb2.ConversationBlock]:
    """The blocks of one subagent's transcript on its own (the CLI streams none of them)."""
    return _Reader(_lines(raw)).blocks


Line = dict[str, Any]

# User lines that Claude Code writes itself: a local command's output and caveat, an interruption's marker.
_NOT_SAID = ("<local-command-", "[Request interrupted by user")
_COMMAND_NAME = re.compile(r"<command-name>(.*?)</command-name>", re.DOTALL)
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.DOTALL)
_AGENT_STATUS = {"completed": blocks_pb2.TOOL_STATUS_SUCCESS, "async_launched": blocks_pb2.TOOL_STATUS_RUNNING}


def _lines(raw: str) -> list[Line]:
    """The JSON objects of a JSONL text; a line that is not one is dropped."""
    found = []
    for text in raw.splitlines():
        with contextlib.suppress(ValueError):
            line = json.loads(text)
            if isinstance(line, dict):
                found.append(line)
    return found


def _session_id(lines: Iterable[Line]) -> str | None:
    return next((line["sessionId"] for line in lines if isinstance(line.get("sessionId"), str)), None)


def _parts(line: Line) -> list[dict[str, Any]]:
    """A line's message content as parts; a string is one text part."""
    message = line.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [part for part in content if isinstance(part, dict)] if isinstance(content, list) else []


def _string(values: dict[str, Any], key: str) -> str:
    """A value an id is made of: one that is not a string would make a wrong id."""
    if not isinstance(value := values[key], str):
        raise TypeError(f"{key} is not a string")
    return value


class _Reader:
    """The blocks of one transcript, and the subagents its Task calls started (agentId -> their block)."""

    def __init__(self, lines: Iterable[Line]) -> None:
        lines = list(lines)
        self._outcomes = {
            part["tool_use_id"]: bool(part.get("is_error"))
            for line in lines
            if line.get("type") == "user"
            for part in _parts(line)
            if part.get("type") == "tool_result" and isinstance(part.get("tool_use_id"), str)
        }
        self._indexes: Counter[str] = Counter()  # content blocks so far, per message id
        self._inputs: dict[str, Any] = {}  # of the tool calls so far, by tool_use_id
        self.blocks: list[blocks_pb2.ConversationBlock] = []
        self.agents: dict[str, blocks_pb2.SubagentBlock] = {}
        for line in lines:
            # A line of an unexpected shape is skipped: one odd line must not cost the whole conversation.
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                self._read(line)

    def _read(self, line: Line) -> None:
        time = timestamp_pb2.Timestamp()
        time.FromJsonString(line["timestamp"])
        if line.get("type") == "assistant":
            found = self._assistant(line)
        elif line.get("type") == "user" and not any(
            line.get(flag) for flag in ("isMeta", "isCompactSummary", "isVisibleInTranscriptOnly")
        ):
            found = self._user(line)
        else:
            return
        for block in found:
            block.timestamp.CopyFrom(time)
        self.blocks += found

    def _assistant(self, line: Line) -> list[blocks_pb2.ConversationBlock]:
        message = line["message"]
        message_id, model = _string(message, "id"), message.get("model", "")
        api_error = bool(line.get("isApiErrorMessage"))
        found = []
        for part in _parts(line):
            index = self._indexes[message_id]
            self._indexes[message_id] += 1
            block = assistant_block(block_id(message_id, index), part, model, self._status(part), api_error)
            if block is not None:
                found.append(block)
                if part.get("type") == "tool_use":
                    self._inputs[part["id"]] = part.get("input")
        return found

    def _user(self, line: Line) -> list[blocks_pb2.ConversationBlock]:
        parts = _parts(line)
        results = [part for part in parts if part.get("type") == "tool_result"]
        if not results:
            message = user_message(parts)
            if message.content.startswith(_NOT_SAID) or not (message.content or message.images):
                return []
            if name := _COMMAND_NAME.search(message.content):  # a slash command, as the user typed it
                args = _COMMAND_ARGS.search(message.content)
                message.content = f"{name[1]} {args[1] if args else ''}".strip()
            return [blocks_pb2.ConversationBlock(id=user_message_id(_string(line, "uuid")), user_message=message)]
        details = line.get("toolUseResult")
        if isinstance(details, dict) and isinstance(details.get("agentId"), str):
            return [self._subagent(part, details) for part in results]
        return [block for part in results if (block := part_block(tool_result_id(part["tool_use_id"]), part))]

    def _status(self, part: dict[str, Any]) -> blocks_pb2.ToolStatus.ValueType:
        """A tool call's: pending until its result, then as the result says."""
        if part.get("id") not in self._outcomes:
            return blocks_pb2.TOOL_STATUS_PENDING
        return blocks_pb2.TOOL_STATUS_ERROR if self._outcomes[part["id"]] else blocks_pb2.TOOL_STATUS_SUCCESS

    def _subagent(self, result: dict[str, Any], details: dict[str, Any]) -> blocks_pb2.ConversationBlock:
        """A Task call's result: the subagent it ran, whose conversation is in the agent's own file."""
        tool_use_id = _string(result, "tool_use_id")
        call = self._inputs.get(tool_use_id)
        call = call if isinstance(call, dict) else {}
        subagent = blocks_pb2.SubagentBlock(
            subagent_id=tool_use_id,
            name=str(call.get("subagent_type", "")),
            input=str(call.get("prompt", details.get("prompt", ""))),
            tool_use_id=tool_use_id,
        )
        finish_subagent(subagent, result, details)
        self.agents[details["agentId"]] = subagent
        return blocks_pb2.ConversationBlock(id=subagent_block_id(tool_use_id), subagent=subagent)
