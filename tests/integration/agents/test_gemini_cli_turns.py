"""The gemini-cli architecture end to end: the real Gemini CLI in a real local sandbox, reaching the fake
Gemini API only through the runtime's model proxy, everything observed through the public gRPC API."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, blocks_pb2, events_pb2
from tests.fakes.gemini import FakeGemini, Fault, Turn, function_call, text, thought
from tests.integration.agents.conftest import (
    Conversation,
    completed_blocks,
    digest,
    file_events,
    interrupt_when_sleeping,
    kinds,
    open_conversation,
)
from tests.integration.conftest import AUTH, Runtime
from tests.support.rpc import channel

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

COMPLETED = events_pb2.TURN_OUTCOME_COMPLETED


async def gemini(stub: Stub) -> Conversation:
    return await open_conversation(stub, "gemini-cli")


async def test_gemini_writes_a_file_runs_a_command_and_answers(stub: Stub, fake_gemini: FakeGemini) -> None:
    conversation = await gemini(stub)
    fake_gemini.script(
        [
            Turn([thought("**Planning** a note"), text("Writing it."), function_call(
                "write_file", {"file_path": "notes/todo.txt", "content": "buy milk\n"}
            )]),
            Turn([function_call("run_shell_command", {"command": "cat notes/todo.txt; echo done"})]),
            Turn([text("All done: the note says buy milk.", pieces=4)]),
        ]
    )  # fmt: skip
    await conversation.send("Note that I need milk, then read it back.")
    events = await conversation.until_turn_completed()

    assert kinds(events)[:3] == ["message_accepted", "turn_started", "block_start:user_message"]
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    tools = completed_blocks(events, "tool_use")
    assert [t.tool_use.tool_name for t in tools] == ["write_file", "run_shell_command"]
    updates = [(e.block_update.block.tool_use.tool_name, e.block_update.block.tool_use.status) for e in events
               if e.HasField("block_update")]  # fmt: skip
    assert updates == [
        ("write_file", blocks_pb2.TOOL_STATUS_RUNNING), ("write_file", blocks_pb2.TOOL_STATUS_SUCCESS),
        ("run_shell_command", blocks_pb2.TOOL_STATUS_RUNNING), ("run_shell_command", blocks_pb2.TOOL_STATUS_SUCCESS),
    ]  # fmt: skip
    results = completed_blocks(events, "tool_result")
    assert "buy milk" in results[1].tool_result.output.string_value
    answer = completed_blocks(events, "assistant_text")[-1]
    deltas = [e.block_delta.delta for e in events if e.HasField("block_delta") and e.block_delta.block_id == answer.id]
    assert len(deltas) == 4 and "".join(deltas) == answer.assistant_text.content == "All done: the note says buy milk."
    assert file_events(events) == [("file_created", "notes/todo.txt", digest(b"buy milk\n"))]
    assert any(e.HasField("metadata_update") and e.metadata_update.usage.output_tokens > 0 for e in events)

    # The CLI ran in the sandbox through the proxy: the fake saw its real key, never the sandbox's token.
    assert all(request.api_key == fake_gemini.api_key for request in fake_gemini.requests)
    session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    rebuilt = [b.WhichOneof("kind") for b in session.blocks]
    assert rebuilt[0] == "user_message" and session.blocks[0].user_message.content.startswith("Note that I need")
    assert {"thinking", "tool_use", "tool_result", "assistant_text"} <= set(rebuilt)
    streamed_tools = {t.id for t in tools} | {r.id for r in results}
    assert streamed_tools <= {b.id for b in session.blocks}, "tool blocks keep their ids"
    assert [f.path for f in session.workspace_files] == ["notes/todo.txt"], "the CLI's own files stay out"

    # The same sandbox, the next message: the CLI resumes a transcript with tool calls in it (as written, the
    # CLI's transcript repeats tool results, which the API refuses).
    fake_gemini.script([Turn.text("Still milk.")])
    await conversation.send("What was on the note?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    assert len(fake_gemini.generate_requests()[-1].function_responses) == 2


async def test_a_second_message_resumes_the_gemini_session_in_a_new_sandbox(
    stub: Stub, fake_gemini: FakeGemini, runtime: Runtime
) -> None:
    conversation = await gemini(stub)
    fake_gemini.script([Turn.function_call("write_file", {"file_path": "word.txt", "content": "banana\n"})])
    fake_gemini.script([Turn.text("I wrote the word down.")])
    await conversation.send("Write down banana.")
    first = await conversation.until_turn_completed()
    assert first[-1].turn_completed.outcome == COMPLETED, first[-1].turn_completed.message

    runtime.restart()  # the sandbox is gone with the runtime that made it; storage holds the rest
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        fake_gemini.script([Turn.text("The word was banana.")])
        await conversation.send("What was the word?")
        events = await conversation.until_turn_completed()
        session = await conversation.stub.GetSession(
            api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH
        )
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    history = fake_gemini.generate_requests()[-1]
    assert any("Write down banana." in said for said in history.texts), "the CLI resumed: the model sees the first turn"
    texts = [b.assistant_text.content for b in session.blocks if b.HasField("assistant_text")]
    assert texts == ["I wrote the word down.", "The word was banana."], "both turns are in the stored transcript"


async def test_a_failing_api_fails_the_turn_and_the_session_goes_on(stub: Stub, fake_gemini: FakeGemini) -> None:
    conversation = await gemini(stub)
    fake_gemini.script([Turn.text("First answer.")])
    await conversation.send("First.")
    await conversation.until_turn_completed()
    fake_gemini.script([Fault.quota_exhausted()])  # not retried by the CLI
    await conversation.send("Second.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_FAILED
    assert "quota" in completed_blocks(events, "error")[0].error.message

    fake_gemini.script([Turn.text("Fine again.")])
    await conversation.send("Third.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    texts = [b.assistant_text.content for b in session.blocks if b.HasField("assistant_text")]
    assert texts == ["First answer.", "Fine again."], "the failed turn cost nothing stored"


async def test_interrupting_gemini_mid_tool_kills_it(stub: Stub, fake_gemini: FakeGemini) -> None:
    conversation = await gemini(stub)
    fake_gemini.script([Turn.function_call("run_shell_command", {"command": "sleep 3535"})])
    sent = await conversation.send("Wait a long time.")
    events = await interrupt_when_sleeping(conversation, sent.turn_id, "^sleep 3535")
    statuses = [e.block_update.block.tool_use.status for e in events if e.HasField("block_update")]
    assert statuses == [blocks_pb2.TOOL_STATUS_RUNNING, blocks_pb2.TOOL_STATUS_ERROR]

    fake_gemini.script([Turn.text("Ready.")])
    await conversation.send("Still there?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message


async def test_the_profile_becomes_the_clis_memory_and_commands(stub: Stub, fake_gemini: FakeGemini) -> None:
    conversation = await open_conversation(stub, "gemini-cli", profile="remembering")
    fake_gemini.script([Turn.text("Hello.")])
    await conversation.send("/greet")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    request = json.dumps(fake_gemini.generate_requests()[-1].body)
    assert "MEMORY-MARKER" in request and "SYSTEM-MARKER" in request, "GEMINI.md in the CLI's home is read"
    assert "COMMAND-MARKER" in request, "the profile's command ran in place of /greet"


async def test_a_long_message_reaches_the_model_whole(stub: Stub, fake_gemini: FakeGemini) -> None:
    conversation = await gemini(stub)
    fake_gemini.script([Turn.text("Read it all.")])
    long_message = "Summarise this: " + "word " * 60_000  # 300 KB: more than a command-line argument may hold
    await conversation.send(long_message)
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED, events[-1].turn_completed.message
    assert any(long_message.strip() in said for said in fake_gemini.generate_requests()[-1].texts)
