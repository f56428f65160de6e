"""Claude Code transcripts rebuilt as blocks.

Fixtures, in tests/fixtures/claude-transcript/:
- 0bfd826f-....jsonl and agent-6d933f1b.jsonl: a real session recorded by Claude Code 2.0.55 (from the public
  repository hhopkins95/agent-runtime): the agent reads files, then has an Explore subagent read others;
- cli-2.1.197.jsonl: Claude Code 2.1.197 run against tests/fakes/anthropic (thinking, text and a Write call, then
  an answer), its temporary directory replaced with /workspace;
- cli-2.1.197-subagent/: the same CLI making a Task call, laid out as it writes it: `<session_id>.jsonl` and
  `<session_id>/subagents/agent-<agentId>.jsonl`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from agent_runtime._gen.agentruntime.v1 import blocks_pb2
from agent_runtime.agents import claude_transcript as transcript

FIXTURES = Path(__file__).parent.parent / "fixtures" / "claude-transcript"
SESSION_2_0 = "0bfd826f-14ed-4e00-8015-75bf5f7fe33f"
SESSION_2_1 = "700cd3b7-70ba-428a-9085-39234b41814b"


def golden() -> transcript.Parsed:
    subagent = (FIXTURES / "agent-6d933f1b.jsonl").read_text()
    return transcript.parse((FIXTURES / f"{SESSION_2_0}.jsonl").read_text(), {"agent-6d933f1b": subagent})


def kinds(blocks: list[blocks_pb2.ConversationBlock]) -> list[str]:
    return [str(block.WhichOneof("kind")) for block in blocks]


def test_the_2_0_55_session_gives_at_least_what_the_seed_parser_gave() -> None:
    parsed = golden()
    assert Counter(kinds(parsed.blocks)) == {
        "user_message": 2,
        "thinking": 5,
        "assistant_text": 5,
        "tool_use": 4,
        "tool_result": 3,
        "subagent": 1,
    }
    assert kinds(parsed.blocks)[:8] == [
        "user_message",
        "thinking",
        "assistant_text",
        "user_message",
        "thinking",
        "assistant_text",
        "tool_use",
        "tool_result",
    ]
    [subagent] = parsed.subagents
    assert kinds(list(subagent.blocks)) == [
        "assistant_text",
        "tool_use",
        "tool_use",
        "tool_result",
        "tool_result",
        "assistant_text",
    ]
    assert subagent.blocks[0].assistant_text.model == "claude-haiku-4-5-20251001"


def test_blocks_have_ids_derived_from_the_transcript_and_its_own_times() -> None:
    blocks = golden().blocks
    first, thinking, text = blocks[:3]
    assert first.id == "user-0b0b63b9-30eb-46bc-b9ac-2d90f6702d65"
    assert first.user_message.content == "hello "
    assert first.timestamp.ToJsonString() == "2025-12-01T21:19:30.595Z"
    # The lines of one API message share its id: their blocks are numbered across the lines.
    assert (thinking.id, text.id) == ("msg_01AhYL4NnbawZeLrpy9ce6Jk-0", "msg_01AhYL4NnbawZeLrpy9ce6Jk-1")
    assert thinking.timestamp.ToJsonString() == "2025-12-01T21:19:33.985Z"
    assert thinking.thinking.content.startswith("The user is saying hello.")
    assert text.assistant_text.content == "Hello! How can I help you today?"
    assert text.assistant_text.model == "claude-opus-4-5-20251101"
    reads = [b for b in blocks if b.HasField("tool_use") and b.tool_use.tool_name == "Read"]
    assert [b.id for b in reads] == ["msg_011r77Ty2J5RGSeeLM1aRqM2-2", "msg_011r77Ty2J5RGSeeLM1aRqM2-3"]
    assert golden() == golden(), "parsing again gives the same blocks"


def test_tools_carry_their_calls_and_results() -> None:
    by_id = {block.id: block for block in golden().blocks}
    glob = by_id["msg_01My5DkESb9SWn8giqvH5KMT-2"].tool_use
    assert (glob.tool_name, glob.tool_use_id) == ("Glob", "toolu_012qTdc2rTZu3i2BzvoTtrmX")
    assert dict(glob.input) == {"pattern": "**/*"}
    assert glob.status == blocks_pb2.TOOL_STATUS_SUCCESS
    result = by_id["toolu_012qTdc2rTZu3i2BzvoTtrmX-result"]
    assert result.timestamp.ToJsonString() == "2025-12-01T21:21:20.836Z"
    assert result.tool_result.tool_use_id == "toolu_012qTdc2rTZu3i2BzvoTtrmX"
    assert result.tool_result.output.string_value.split("\n")[0] == "/Users/hunterhopkins/dev/test/README.md"
    assert not result.tool_result.is_error


def test_a_task_call_result_is_the_subagent_with_the_id_of_its_conversation() -> None:
    parsed = golden()
    by_id = {block.id: block for block in parsed.blocks}
    assert "toolu_018pvWxLiTRRGjSE7aDVEuxF-result" not in by_id
    block = by_id["toolu_018pvWxLiTRRGjSE7aDVEuxF-subagent"]
    assert block.timestamp.ToJsonString() == "2025-12-01T21:21:45.420Z"
    subagent = block.subagent
    assert subagent.subagent_id == subagent.tool_use_id == "toolu_018pvWxLiTRRGjSE7aDVEuxF"
    assert subagent.name == "Explore"
    assert subagent.input.startswith("Please read the following files in the workspace")
    assert subagent.status == blocks_pb2.TOOL_STATUS_SUCCESS
    assert subagent.output.startswith("Here are the contents and summaries of both files:")
    assert subagent.duration.ToMilliseconds() == 6080
    [conversation] = parsed.subagents
    assert (conversation.subagent_id, conversation.name) == ("toolu_018pvWxLiTRRGjSE7aDVEuxF", "Explore")
    assert conversation.blocks[0].id == "msg_01MuhkCQZ6hynkn3hkZqNZbP-0"
    assert conversation.blocks[0].timestamp.ToJsonString() == "2025-12-01T21:21:40.865Z"


def test_a_transcript_of_claude_code_2_1_197() -> None:
    parsed = transcript.parse((FIXTURES / "cli-2.1.197.jsonl").read_text(), {})
    assert [(b.id, b.WhichOneof("kind")) for b in parsed.blocks] == [
        ("user-76e45284-774f-4a5d-8c77-9e612edfa2b5", "user_message"),
        ("msg_fake_2e01035226a14807aed0-0", "thinking"),
        ("msg_fake_2e01035226a14807aed0-1", "assistant_text"),
        ("msg_fake_2e01035226a14807aed0-2", "tool_use"),
        ("toolu_fake_write-result", "tool_result"),
        ("msg_fake_ee352dfeb6d343418957-0", "assistant_text"),
    ]
    prompt, thinking, text, write, result, answer = parsed.blocks
    assert prompt.user_message.content == "hi"
    assert prompt.timestamp.ToJsonString() == "2026-11-22T02:01:59.099Z"
    assert thinking.thinking.content == "I should write the file."
    assert (text.assistant_text.content, text.assistant_text.model) == ("Writing hello.txt.", "m")
    assert dict(write.tool_use.input) == {"file_path": "/workspace/hello.txt", "content": "hi\n"}
    assert write.tool_use.status == blocks_pb2.TOOL_STATUS_SUCCESS
    assert result.tool_result.output.string_value.startswith("File created successfully at: /workspace/hello.txt")
    assert answer.assistant_text.content == "Done: hello.txt says hi."
    assert answer.timestamp.ToJsonString() == "2026-11-22T02:01:59.241Z"
    assert parsed.subagents == []


def test_a_subagent_of_claude_code_2_1_197() -> None:
    folder = FIXTURES / "cli-2.1.197-subagent"
    subagent = (folder / SESSION_2_1 / "subagents" / "agent-aac806069fba478aa.jsonl").read_text()
    parsed = transcript.parse((folder / f"{SESSION_2_1}.jsonl").read_text(), {"agent-aac806069fba478aa": subagent})
    assert kinds(parsed.blocks) == ["user_message", "assistant_text", "tool_use", "subagent", "assistant_text"]
    block = parsed.blocks[3]
    assert block.id == "toolu_fake_task-subagent"
    assert (block.subagent.name, block.subagent.input) == ("general-purpose", "p")
    # The tool result adds a note for the model ("agentId: ... (use SendMessage ..."); the subagent's output does not.
    assert block.subagent.output == "Subagent result: sub."
    assert block.subagent.duration.ToMilliseconds() == 559
    [conversation] = parsed.subagents
    assert (conversation.subagent_id, conversation.name) == ("toolu_fake_task", "general-purpose")
    assert [(b.id, b.WhichOneof("kind")) for b in conversation.blocks] == [
        ("user-5e49330c-a2f7-45f2-8169-1bfed3623b40", "user_message"),
        ("msg_fake_d6ca7c33f77448ad9f0b-0", "assistant_text"),
        ("msg_fake_d6ca7c33f77448ad9f0b-1", "tool_use"),
        ("toolu_fake_sub_bash-result", "tool_result"),
        ("msg_fake_2c9f714faf8149169820-0", "assistant_text"),
    ]
    assert conversation.blocks[0].user_message.content == "p", "the subagent's prompt"


# Lines shaped as Claude Code writes them, for the cases the fixtures lack.
TIME = "2026-01-02T03:04:05.678Z"


def line(kind: str, content: Any = None, /, **fields: Any) -> dict[str, Any]:
    found = {"type": kind, "sessionId": "s1", "timestamp": TIME, "uuid": "u", **fields}
    if content is not None:
        found["message"] = {
            "role": kind,
            "content": content,
            **({"id": "msg_1", "model": "m"} if kind == "assistant" else {}),
        }
    return found


def jsonl(*lines: dict[str, Any] | str) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines)


def test_lines_claude_code_writes_for_itself_are_left_out() -> None:
    caveat = "<local-command-caveat>Caveat: The messages below were generated by the user while running local commands."
    command = (
        "<command-name>/compact</command-name>\n  <command-message>compact</command-message>\n"
        "  <command-args>keep it short</command-args>"
    )
    raw = jsonl(
        {"type": "queue-operation", "operation": "enqueue", "timestamp": TIME, "sessionId": "s1", "content": "hi"},
        {"type": "file-history-snapshot", "messageId": "m", "snapshot": {}, "isSnapshotUpdate": False},
        line("user", caveat, isMeta=True),
        line("user", command, uuid="command"),
        line("system", None, subtype="local_command", content="<local-command-stdout>Compacted</local-command-stdout>"),
        line("attachment", None, attachment={"type": "skill_listing", "content": "- verify: ..."}),
        line("user", "This session is being continued from a previous conversation...", isCompactSummary=True),
        line("user", [{"type": "text", "text": "[Request interrupted by user]"}]),
        line("user", "a subagent's prompt", isSidechain=True),
        line("user", [{"type": "text", "text": "Say "}, {"type": "text", "text": "hi"}], uuid="said"),
        {"type": "summary", "summary": "A chat", "leafUuid": "said"},
        {"type": "last-prompt", "lastPrompt": "hi", "sessionId": "s1"},
    )
    blocks = transcript.parse(raw, {}).blocks
    assert [(b.id, b.user_message.content) for b in blocks] == [
        ("user-command", "/compact keep it short"),
        ("user-said", "Say hi"),
    ]


def test_tool_calls_without_a_result_are_pending_and_failed_ones_errors() -> None:
    calls = [
        {"type": "tool_use", "id": "toolu_a", "name": "Bash", "input": {"command": "false"}},
        {"type": "tool_use", "id": "toolu_b", "name": "Bash", "input": {"command": "sleep 99"}},
    ]
    failed = [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_a",
            "content": [{"type": "text", "text": "exit 1"}],
            "is_error": True,
        }
    ]
    blocks = transcript.parse(
        jsonl(line("assistant", calls[:1]), line("assistant", calls[1:]), line("user", failed)), {}
    ).blocks
    assert [b.id for b in blocks] == ["msg_1-0", "msg_1-1", "toolu_a-result"]
    assert [b.tool_use.status for b in blocks[:2]] == [blocks_pb2.TOOL_STATUS_ERROR, blocks_pb2.TOOL_STATUS_PENDING]
    assert blocks[2].tool_result.is_error and blocks[2].tool_result.output.string_value == "exit 1"


def test_a_failed_api_call_is_an_error_block() -> None:
    failure = line(
        "assistant", [{"type": "text", "text": "API Error: 400 boom"}], isApiErrorMessage=True, apiErrorStatus=400
    )
    [block] = transcript.parse(jsonl(failure), {}).blocks
    assert block.id == "msg_1-0"
    assert (block.error.message, block.error.code) == ("API Error: 400 boom", "API_ERROR")


def test_malformed_lines_are_skipped() -> None:
    assert transcript.parse("", {}) == transcript.Parsed([], [])
    raw = jsonl(
        "not json",
        "[1, 2]",
        "",
        {"type": "assistant"},
        {"type": "assistant", "timestamp": TIME, "message": "hello"},
        line("assistant", [{"type": "tool_use", "name": "Bash"}]),  # no id
        line("assistant", [{"type": "text", "text": 7}]),
        line("user", "no time", timestamp="yesterday"),
        line("user", "no uuid", uuid=None),
        line("user", [{"type": "tool_result", "content": "no tool_use_id"}]),
        line("user", 42),
        line("user", "still here", uuid="ok"),
    )
    [block] = transcript.parse(raw, {}).blocks
    assert (block.id, block.user_message.content) == ("user-ok", "still here")


def task_call(tool_use_id: str, subagent_type: str) -> dict[str, Any]:
    call_input = {"description": "d", "prompt": "p", "subagent_type": subagent_type}
    return line("assistant", [{"type": "tool_use", "id": tool_use_id, "name": "Task", "input": call_input}])


def task_result(tool_use_id: str, agent_id: str, status: str = "completed") -> dict[str, Any]:
    details = {"status": status, "agentId": agent_id, "prompt": "p", "content": [], "totalDurationMs": 5}
    result = {"type": "tool_result", "tool_use_id": tool_use_id, "content": "launched"}
    return line("user", [result], toolUseResult=details)


def test_subagent_files_of_no_task_call_keep_their_name_and_those_of_other_sessions_are_left_out() -> None:
    said = jsonl(line("user", "p", uuid="sub"))
    parsed = transcript.parse(
        jsonl(task_call("toolu_t", "Plan"), task_result("toolu_t", "abc", status="async_launched")),
        {
            "agent-abc": said,
            "agent-stray": said,
            "agent-empty": jsonl(line("user", "p", isMeta=True)),
            "agent-elsewhere": jsonl(line("user", "p", sessionId="s2")),
        },
    )
    # A subagent started in the background ("async_launched") is still running when its call returns.
    assert parsed.blocks[1].subagent.status == blocks_pb2.TOOL_STATUS_RUNNING
    assert [(c.subagent_id, c.name, [b.id for b in c.blocks]) for c in parsed.subagents] == [
        ("toolu_t", "Plan", ["user-sub"]),
        ("agent-stray", "", ["user-sub"]),
    ]


def test_a_subagent_started_by_a_subagent_takes_the_id_of_its_task_call() -> None:
    parsed = transcript.parse(
        jsonl(task_call("toolu_t", "Plan"), task_result("toolu_t", "abc")),
        {
            "agent-abc": jsonl(task_call("toolu_n", "Explore"), task_result("toolu_n", "def")),
            "agent-def": jsonl(line("user", "p", uuid="deep")),
        },
    )
    assert [(c.subagent_id, c.name, [b.id for b in c.blocks]) for c in parsed.subagents] == [
        ("toolu_t", "Plan", ["msg_1-0", "toolu_n-subagent"]),
        ("toolu_n", "Explore", ["user-deep"]),
    ]
