"""The claude-agent-sdk architecture end to end: the real Claude Code CLI in a real local sandbox, reaching
the fake Messages API only through the runtime's model proxy, everything observed through the public gRPC
API."""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, blocks_pb2, events_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Fault, Turn, text, thinking, tool_use
from tests.integration.agents.conftest import (
    Conversation,
    completed_blocks,
    digest,
    file_events,
    interrupt_when_sleeping,
    kinds,
    open_conversation,
    until_sleeping,
)
from tests.integration.conftest import AUTH, Runtime
from tests.support.rpc import channel

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

COMPLETED = events_pb2.TURN_OUTCOME_COMPLETED


async def claude(stub: Stub) -> Conversation:
    return await open_conversation(stub, "claude-agent-sdk")


async def test_claude_code_writes_a_file_runs_a_command_and_answers(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await claude(stub)
    fake_model.script(
        [
            Turn([thinking("A note, then read it."), text("Writing it."), tool_use("Write", {
                "file_path": "/workspace/notes/hello.txt", "content": "hi there\n"
            })]),
            Turn.tool_use("Bash", {"command": "cat notes/hello.txt && echo done"}),
            Turn.text("All done: the note says hi."),
        ]
    )  # fmt: skip
    sent = await conversation.send("Leave me a note, then read it back.")
    events = await conversation.until_turn_completed()

    order = kinds(events)
    assert order[:3] == ["message_accepted", "turn_started", "block_start:user_message"]
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    assert [e.status.message for e in events if e.HasField("status")][-1] == "Ready"
    main = [e for e in events if e.HasField("block_complete")]
    assert [e.block_complete.block.WhichOneof("kind") for e in main] == [
        "user_message", "thinking", "assistant_text", "tool_use", "tool_result",
        "tool_use", "tool_result", "assistant_text",
    ]  # fmt: skip
    assert all(e.conversation_id == "main" for e in main)
    thoughts = completed_blocks(events, "thinking")
    assert thoughts[0].thinking.content == "A note, then read it."
    deltas = [e.block_delta for e in events if e.HasField("block_delta")]
    assert {d.kind for d in deltas} == {
        events_pb2.DELTA_KIND_THINKING, events_pb2.DELTA_KIND_TEXT, events_pb2.DELTA_KIND_TOOL_INPUT_JSON
    }  # fmt: skip
    answer = completed_blocks(events, "assistant_text")[-1]
    streamed_answer = "".join(d.delta for d in deltas if d.block_id == answer.id)
    assert streamed_answer == answer.assistant_text.content == "All done: the note says hi."
    tools = completed_blocks(events, "tool_use")
    assert [t.tool_use.tool_name for t in tools] == ["Write", "Bash"]
    updates = [(e.block_update.block.tool_use.tool_name, e.block_update.block.tool_use.status) for e in events
               if e.HasField("block_update")]  # fmt: skip
    assert updates == [
        ("Write", blocks_pb2.TOOL_STATUS_RUNNING), ("Write", blocks_pb2.TOOL_STATUS_SUCCESS),
        ("Bash", blocks_pb2.TOOL_STATUS_RUNNING), ("Bash", blocks_pb2.TOOL_STATUS_SUCCESS),
    ]  # fmt: skip
    results = completed_blocks(events, "tool_result")
    assert results[1].tool_result.output.string_value.startswith("hi there\ndone")
    assert file_events(events) == [("file_created", "notes/hello.txt", digest(b"hi there\n"))]
    started = [e.block_start.block.id for e in events if e.HasField("block_start")]
    assert all(started) and sorted(started) == sorted(e.block_complete.block_id for e in main)
    costs = [e.metadata_update for e in events if e.HasField("metadata_update") and e.metadata_update.cost_usd > 0]
    assert costs and costs[-1].usage.output_tokens > 0, "the result's usage and cost"
    assert costs[-1].model == answer.assistant_text.model, "named as the blocks name it"

    # The CLI ran in the sandbox through the proxy: the fake saw its real key, never the sandbox's token.
    request = fake_model.message_requests()[-1]
    assert request.api_key == fake_model.api_key
    assert request.headers.get("user-agent", "").startswith("claude-cli/")

    session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    assert [b.id for b in session.blocks] == [e.block_complete.block_id for e in main]
    assert session.blocks[0].id == sent.user_message.id
    assert session.blocks[0].timestamp == sent.user_message.timestamp, "the time the stream gave it"
    assert [f.path for f in session.workspace_files] == ["notes/hello.txt"], "Claude's own files stay out"


async def test_a_second_message_resumes_the_claude_session_in_a_new_sandbox(
    stub: Stub, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    conversation = await claude(stub)
    fake_model.script(
        [Turn.tool_use("Write", {"file_path": "/workspace/kept.txt", "content": "kept\n"}), Turn.text("Saved.")]
    )
    await conversation.send("Save something.")
    first = await conversation.until_turn_completed()
    assert first[-1].turn_completed.outcome == COMPLETED, first[-1].turn_completed.message

    runtime.restart()  # the sandbox is gone with the runtime that made it; storage holds the rest
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        fake_model.script([Turn.tool_use("Bash", {"command": "cat kept.txt"}), Turn.text("Still there.")])
        await conversation.send("Is it still there?")
        events = await conversation.until_turn_completed()
        session = await conversation.stub.GetSession(
            api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH
        )
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    assert completed_blocks(events, "tool_result")[0].tool_result.output.string_value.startswith("kept")
    history = fake_model.message_requests()[-2].messages
    said = [m["content"] for m in history if m["role"] == "user" and isinstance(m["content"], str)]
    assert "Save something." in str(history[0]), "Claude resumed its session: the model sees the first turn"
    assert said or history, history
    texts = [b.assistant_text.content for b in session.blocks if b.HasField("assistant_text")]
    assert texts == ["Saved.", "Still there."], "both turns are in the stored transcript"
    assert session.runtime.sandbox.restart_count == 0 and session.runtime.sandbox.status == (
        session_pb2.SANDBOX_STATUS_READY
    )


async def test_a_failing_model_fails_the_turn_and_the_session_goes_on(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await claude(stub)
    fake_model.script([Fault.bad_request("the fake refuses")])
    await conversation.send("Hello?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_FAILED
    errors = completed_blocks(events, "error")
    assert errors and "the fake refuses" in errors[0].error.message

    fake_model.script([Turn.text("Back.")])
    await conversation.send("Again?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    assert completed_blocks(events, "assistant_text")[-1].assistant_text.content == "Back."


async def test_interrupting_claude_mid_tool_kills_it_and_the_next_turn_resumes(
    stub: Stub, fake_model: FakeAnthropic
) -> None:
    conversation = await claude(stub)
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3232"})])
    sent = await conversation.send("Wait a long time.")
    events = await interrupt_when_sleeping(conversation, sent.turn_id, "^sleep 3232")
    bash = [e.block_update.block.tool_use.status for e in events if e.HasField("block_update")]
    assert bash == [blocks_pb2.TOOL_STATUS_RUNNING, blocks_pb2.TOOL_STATUS_ERROR]

    fake_model.script([Turn.text("Ready.")])
    await conversation.send("Still there?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    assert "Wait a long time." in str(fake_model.message_requests()[-1].messages[0]), "the same Claude session"


async def test_a_subagent_streams_into_its_own_conversation(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await open_conversation(stub, "claude-agent-sdk", profile="delegating")
    task = {"description": "Look around", "prompt": "List the files.", "subagent_type": "scout"}
    fake_model.script(
        [
            Turn.tool_use("Task", task),  # the main agent delegates
            Turn.text("There are no files."),  # the subagent answers
            Turn.text("The helper found nothing."),  # the main agent ends its turn
        ]
    )
    await conversation.send("Have a helper look around.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message

    call = completed_blocks(events, "tool_use")[0].tool_use
    assert call.tool_name == "Task"
    discovered = [e.subagent_discovered for e in events if e.HasField("subagent_discovered")]
    assert [(d.subagent_id, d.name) for d in discovered] == [(call.tool_use_id, "scout")]
    finished = [e.subagent_completed for e in events if e.HasField("subagent_completed")]
    assert [(f.subagent_id, f.status) for f in finished] == [(call.tool_use_id, blocks_pb2.TOOL_STATUS_SUCCESS)]
    subagent_events = [e for e in events if e.conversation_id == call.tool_use_id and e.HasField("block_complete")]
    assert "There are no files." in [e.block_complete.block.assistant_text.content for e in subagent_events]
    delegation = completed_blocks(events, "subagent")[0].subagent
    assert (delegation.input, delegation.status) == ("List the files.", blocks_pb2.TOOL_STATUS_SUCCESS)
    assert "There are no files." in delegation.output

    session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    assert [s.subagent_id for s in session.subagents] == [call.tool_use_id], "stored, and named as streamed"
    stored = {b.id for b in session.subagents[0].blocks}
    assert {e.block_complete.block_id for e in subagent_events} <= stored
    assert [b.WhichOneof("kind") for b in session.blocks] == [
        "user_message", "tool_use", "subagent", "assistant_text"
    ]  # fmt: skip
    # The profile's subagent was Claude Code's: its prompt reached the model as the subagent's system prompt.
    assert any(
        "You look around and report briefly." in str(r.body.get("system")) for r in fake_model.message_requests()
    )


async def test_an_overloaded_model_is_retried_and_shown(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await claude(stub)
    fake_model.script([Fault.overloaded(), Turn.text("Made it.")])
    await conversation.send("Are you busy?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    retries = completed_blocks(events, "system")
    assert retries and re.fullmatch(
        r"The model API answered 529; retry 1 of \d+ in \d+\.\d s", retries[0].system.message
    )
    assert completed_blocks(events, "assistant_text")[-1].assistant_text.content == "Made it."


async def test_a_broken_stream_fails_the_turn_and_nothing_stored_is_lost(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await claude(stub)
    fake_model.script([Turn.text("First answer.")])
    await conversation.send("First.")
    await conversation.until_turn_completed()
    # The CLI falls back to a request without streaming after a broken stream; both fail here.
    fake_model.script([Fault.garbage(), Fault.bad_request("still broken")])
    await conversation.send("Second.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_FAILED
    session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    texts = [b.assistant_text.content for b in session.blocks if b.HasField("assistant_text")]
    assert texts[0] == "First answer."

    fake_model.script([Turn.text("Fine again.")])
    await conversation.send("Third.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message


async def test_a_crashing_cli_fails_the_turn_and_the_session_goes_on(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await claude(stub)
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3333"})])
    await conversation.send("Take your time.")
    await until_sleeping("^sleep 3333")
    subprocess.run(["pkill", "-KILL", "-f", "^claude -p"], check=True)  # the CLI dies, its tool runs on
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_FAILED
    assert "without a result" in events[-1].turn_completed.message
    bash = [e.block_update.block.tool_use.status for e in events if e.HasField("block_update")]
    assert bash == [blocks_pb2.TOOL_STATUS_RUNNING, blocks_pb2.TOOL_STATUS_ERROR]
    subprocess.run(["pkill", "-f", "^sleep 3333"], check=False)

    fake_model.script([Turn.text("Recovered.")])
    await conversation.send("Again?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
