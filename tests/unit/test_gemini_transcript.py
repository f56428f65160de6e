"""Gemini CLI transcripts, recorded from the real CLI 0.61.0 against the fake Gemini API, as blocks.

tools.jsonl: one turn (a thought, text, write_file, run_shell_command, a read_file that fails, text).
resumed.jsonl: that session put back with `resumable` into a fresh HOME and continued with `gemini --resume`.
failed-turn.jsonl: a turn whose stream broke, which the CLI took back out of the transcript.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import blocks_pb2
from agent_runtime.agents import gemini_transcript

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gemini-transcript"
WRITE = "write_file__write_file_1795313409425_0"
SHELL = "run_shell_command__run_shell_command_1795313409617_0"
READ = "read_file__read_file_1795313409709_0"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def describe(block: blocks_pb2.ConversationBlock) -> tuple[str, str]:
    return block.id, str(block.WhichOneof("kind"))


def test_a_turn_with_tools_becomes_its_blocks_in_order() -> None:
    blocks = gemini_transcript.parse(fixture("tools.jsonl"))

    user, thought, first = blocks[0], blocks[1], blocks[2]
    message_id = thought.id.removesuffix("-0")
    assert [describe(block) for block in blocks] == [
        (user.id, "user_message"),
        (f"{message_id}-0", "thinking"),
        (f"{message_id}-1", "assistant_text"),
        (WRITE, "tool_use"),
        (f"{WRITE}-result", "tool_result"),
        (blocks[5].id, "assistant_text"),
        (SHELL, "tool_use"),
        (f"{SHELL}-result", "tool_result"),
        (READ, "tool_use"),
        (f"{READ}-result", "tool_result"),
        (blocks[10].id, "assistant_text"),
    ]
    assert user.user_message.content == "Create hello.txt, show it, then read missing.txt", "no session context"
    assert (thought.thinking.summary, thought.thinking.content) == (
        "Planning the file",
        "I should create hello.txt first, then check it.",
    )
    assert (first.assistant_text.content, first.assistant_text.model) == ("I'll create the file.", "gemini-2.5-flash")
    assert blocks[10].assistant_text.content == "Done: hello.txt holds a greeting, and missing.txt does not exist."


def test_tool_calls_carry_their_input_status_and_result() -> None:
    blocks = {block.id: block for block in gemini_transcript.parse(fixture("tools.jsonl"))}

    write = blocks[WRITE].tool_use
    assert (write.tool_name, write.tool_use_id, write.status) == ("write_file", WRITE, blocks_pb2.TOOL_STATUS_SUCCESS)
    assert json_format.MessageToDict(write.input) == {"file_path": "hello.txt", "content": "Hello, Gemini!\n"}
    assert write.display_name == "WriteFile"
    written = blocks[f"{WRITE}-result"].tool_result
    assert written.tool_use_id == WRITE and not written.is_error
    assert written.output.string_value.startswith("Successfully created and wrote to new file: /workspace/hello.txt")

    assert "Output: Hello, Gemini!" in blocks[f"{SHELL}-result"].tool_result.output.string_value

    assert blocks[READ].tool_use.status == blocks_pb2.TOOL_STATUS_ERROR
    failed = blocks[f"{READ}-result"].tool_result
    assert failed.is_error
    assert failed.output.string_value == "File not found: /workspace/missing.txt"


def test_blocks_carry_the_transcripts_own_times() -> None:
    raw = fixture("tools.jsonl")
    prompt = next(json.loads(line) for line in raw.splitlines() if '"Create hello.txt' in line)
    user, *rest = gemini_transcript.parse(raw)
    assert user.id == prompt["id"]
    assert user.timestamp.ToJsonString() == prompt["timestamp"]
    assert all(block.HasField("timestamp") for block in rest)
    call = next(json.loads(line) for line in raw.splitlines() if '"toolCalls"' in line)["toolCalls"][0]
    result = next(block for block in rest if block.id == f"{WRITE}-result")
    assert result.timestamp.ToJsonString() == call["timestamp"], "when the tool finished"


def test_a_resumed_session_keeps_its_blocks_and_their_ids() -> None:
    before = gemini_transcript.parse(fixture("tools.jsonl"))
    after = gemini_transcript.parse(fixture("resumed.jsonl"))

    # --resume rewrites the earlier messages (API parts, new times, no display names): the blocks stay the same.
    def content(block: blocks_pb2.ConversationBlock) -> dict[str, Any]:
        found = json_format.MessageToDict(block)
        found.pop("timestamp")
        found.get("toolUse", {}).pop("displayName", None)
        found.get("toolUse", {}).pop("description", None)
        return found

    assert [content(block) for block in after[: len(before)]] == [content(block) for block in before]
    assert [block.user_message.content for block in after[len(before) :] if block.HasField("user_message")] == [
        "Thanks!"
    ]
    assert after[-1].assistant_text.content == "You're welcome!"


def test_resumable_gives_each_tool_result_once() -> None:
    raw = fixture("tools.jsonl")

    def answers(transcript: str) -> dict[str, int]:
        """How many times the CLI will answer each call when it loads the transcript: once per toolCall with a
        result, once per functionResponse part of a user message."""
        counts: dict[str, int] = {}
        for line in transcript.splitlines():
            record = json.loads(line)
            for call in record.get("toolCalls") or []:
                counts[call["id"]] = counts.get(call["id"], 0) + 1
            if record.get("type") == "user" and isinstance(record.get("content"), list):
                for part in record["content"]:
                    if "functionResponse" in part:
                        counts[part["functionResponse"]["id"]] = counts.get(part["functionResponse"]["id"], 0) + 1
        return counts

    rewritten = gemini_transcript.resumable(raw)
    assert json.loads(rewritten.splitlines()[0])["sessionId"] == "ee29a7b4-154b-4c4d-99a6-24835c4bce5e"
    assert answers(rewritten) == {WRITE: 1, SHELL: 1, READ: 1}
    assert [describe(block) for block in gemini_transcript.parse(rewritten)] == [
        describe(block) for block in gemini_transcript.parse(raw)
    ]


def test_a_message_with_an_image_keeps_what_was_typed_and_the_image() -> None:
    message = {
        "id": "u-1",
        "timestamp": "2026-11-22T02:10:09.300Z",
        "type": "user",
        "content": [{"text": "What is in @cat.png?"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw=="}}],
        "displayContent": "What is in @cat.png?",
    }
    [block] = gemini_transcript.parse(json.dumps(message))
    assert block.user_message.content == "What is in @cat.png?"
    [image] = block.user_message.images
    assert (image.data, image.media_type) == (b"\x89PNG", "image/png")


def test_a_failed_turn_that_the_cli_took_back_leaves_no_blocks() -> None:
    assert gemini_transcript.parse(fixture("failed-turn.jsonl")) == []


def test_rewinding_drops_the_message_and_what_follows() -> None:
    raw = fixture("tools.jsonl")
    blocks = gemini_transcript.parse(raw)
    second_text = blocks[5].id.removesuffix("-0")
    rewound = gemini_transcript.parse(raw + json.dumps({"$rewindTo": second_text}) + "\n")
    assert [block.id for block in rewound] == [block.id for block in blocks[:5]]


def test_unreadable_lines_and_messages_are_skipped() -> None:
    lines = fixture("tools.jsonl").splitlines()
    noisy = [
        "this is not JSON",
        *lines[:4],
        "[1, 2, 3]",
        json.dumps({"id": "odd-1", "type": "gemini", "content": 5, "thoughts": "x", "toolCalls": [7, {"id": 3}]}),
        json.dumps({"id": "odd-2", "type": "user", "content": [{"functionResponse": "nope"}, None]}),
        *lines[4:],
        lines[-1][: len(lines[-1]) // 2],
    ]
    assert [describe(block) for block in gemini_transcript.parse("\n".join(noisy))] == [
        describe(block) for block in gemini_transcript.parse("\n".join(lines))
    ]
    assert gemini_transcript.parse("") == []
    assert gemini_transcript.parse('{"messages": 3, "sessionId": "s"}') == []
