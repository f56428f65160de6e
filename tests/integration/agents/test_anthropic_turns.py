"""The anthropic architecture end to end: the real `anthropic` SDK in the runtime, the fake Messages API as
the model, tools in a real local sandbox, everything observed through the public gRPC API."""

from __future__ import annotations

import grpc
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, blocks_pb2, events_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Fault, Turn
from tests.integration.agents.conftest import (
    Conversation,
    digest,
    file_events,
    interrupt_when_sleeping,
    kinds,
    sleeping,
    until_sleeping,
)
from tests.integration.conftest import AUTH, Runtime, rpc_error
from tests.support.rpc import assert_error, channel

COMPLETED = events_pb2.TURN_OUTCOME_COMPLETED


async def test_an_agent_writes_a_file_runs_a_command_and_answers(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    fake_model.script(
        [
            Turn.tool_use("Write", {"file_path": "notes/hello.txt", "content": "hi there\n"}),
            Turn.tool_use("Bash", {"command": "cat notes/hello.txt && echo done"}),
            Turn.text("All done: the note says hi."),
        ]
    )
    sent = await conversation.send("Leave me a note, then read it back.")
    assert sent.user_message.user_message.content == "Leave me a note, then read it back."
    assert sent.turn_id and not sent.queued

    events = await conversation.until_turn_completed()
    sequence = [e.sequence for e in events]
    assert sequence == list(range(1, len(events) + 1)), "dense, from 1"
    order = kinds(events)
    assert order[:3] == ["message_accepted", "turn_started", "block_start:user_message"]
    statuses = [e.status.message for e in events if e.HasField("status")]
    assert statuses == [
        "Preparing...",
        "Creating sandbox...",
        "Setting up session files...",
        "Starting file watchers...",
        "Ready",
    ]
    assert order[-1] == "turn_completed" and events[-1].turn_completed.outcome == COMPLETED

    tool_uses = [
        e.block_complete.block
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("tool_use")
    ]
    assert [b.tool_use.tool_name for b in tool_uses] == ["Write", "Bash"]
    assert dict(tool_uses[0].tool_use.input) == {"file_path": "notes/hello.txt", "content": "hi there\n"}
    input_deltas = [
        e.block_delta
        for e in events
        if e.HasField("block_delta") and e.block_delta.kind == events_pb2.DELTA_KIND_TOOL_INPUT_JSON
    ]
    assert len(input_deltas) > 1, "tool input streams in pieces"
    updates = [
        (e.block_update.block.tool_use.tool_name, e.block_update.block.tool_use.status)
        for e in events
        if e.HasField("block_update")
    ]
    assert updates == [
        ("Write", blocks_pb2.TOOL_STATUS_RUNNING),
        ("Write", blocks_pb2.TOOL_STATUS_SUCCESS),
        ("Bash", blocks_pb2.TOOL_STATUS_RUNNING),
        ("Bash", blocks_pb2.TOOL_STATUS_SUCCESS),
    ]
    results = [
        e.block_complete.block.tool_result
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("tool_result")
    ]
    assert results[1].output.string_value == "hi there\ndone\n"
    assert not any(r.is_error for r in results)

    assert file_events(events) == [("file_created", "notes/hello.txt", digest(b"hi there\n"))]
    first_result = order.index("block_start:tool_result")
    assert order.index("file_created") < first_result, "the Write's file is announced before its result"

    text_deltas = "".join(
        e.block_delta.delta
        for e in events
        if e.HasField("block_delta") and e.block_delta.kind == events_pb2.DELTA_KIND_TEXT
    )
    answer = [
        e.block_complete.block
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("assistant_text")
    ]
    assert text_deltas == answer[-1].assistant_text.content == "All done: the note says hi."
    started_ids = [e.block_start.block.id for e in events if e.HasField("block_start")]
    completed_ids = [e.block_complete.block_id for e in events if e.HasField("block_complete")]
    assert all(started_ids) and sorted(started_ids) == sorted(completed_ids), "every block has a stable id and ends"
    assert any(e.HasField("metadata_update") and e.metadata_update.usage.output_tokens > 0 for e in events)

    # The model saw the tool results it asked for.
    bash_result = fake_model.message_requests()[-1].tool_results[-1]
    assert "hi there" in str(bash_result["content"])
    listed = await conversation.stub.ListWorkspaceFiles(
        api.ListWorkspaceFilesRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert [f.path for f in listed.files] == ["notes/hello.txt"]


async def test_a_second_message_resumes_after_the_sandbox_is_gone(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.tool_use("Write", {"file_path": "kept.txt", "content": "kept\n"}), Turn.text("Saved.")])
    await conversation.send("Save something.")
    await conversation.until_turn_completed()

    unloaded = await conversation.stub.DeleteSession(
        api.DeleteSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert unloaded.unloaded

    fake_model.script([Turn.tool_use("Bash", {"command": "cat kept.txt"}), Turn.text("Still there.")])
    await conversation.send("Is it still there?")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED
    results = [
        e.block_complete.block.tool_result
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("tool_result")
    ]
    assert results[0].output.string_value == "kept\n", "the workspace was restored into the new sandbox"
    history = fake_model.message_requests()[-2].messages
    assert history[0]["content"] == "Save something.", "the transcript was restored: the model sees the first turn"
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant", "user"]


async def test_a_failing_model_ends_the_turn_and_the_session_goes_on(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    # The SDK tries three times (two retries); all three fail.
    fake_model.script([Fault.server_error(), Fault.server_error(), Fault.server_error()])
    await conversation.send("This will fail.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_FAILED
    errors = [
        e.block_complete.block.error
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("error")
    ]
    assert errors and "model API failed" in errors[0].message

    fake_model.script([Turn.text("Back again.")])
    await conversation.send("Try again.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == COMPLETED
    assert fake_model.message_requests()[-1].messages == [{"role": "user", "content": "Try again."}], (
        "the failed turn left nothing behind"
    )


async def test_a_broken_stream_fails_the_turn(conversation: Conversation, fake_model: FakeAnthropic) -> None:
    fake_model.script([Fault.truncated(Turn.text("Half an ans"))])
    await conversation.send("Answer please.")
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_FAILED
    text_blocks = [
        e for e in events if e.HasField("block_complete") and e.block_complete.block.HasField("assistant_text")
    ]
    assert text_blocks, "the half-streamed block is closed"


async def test_interrupting_a_running_tool_stops_it(conversation: Conversation, fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3131"})])
    sent = await conversation.send("Wait a long time.")
    events = await interrupt_when_sleeping(conversation, sent.turn_id, "^sleep 3131")
    bash = [e.block_update.block.tool_use for e in events if e.HasField("block_update")]
    assert [b.status for b in bash] == [blocks_pb2.TOOL_STATUS_RUNNING, blocks_pb2.TOOL_STATUS_ERROR]

    fake_model.script([Turn.text("Ready.")])
    await conversation.send("Still there?")
    assert (await conversation.until_turn_completed())[-1].turn_completed.outcome == COMPLETED


async def test_messages_queue_reject_or_repeat_as_asked(conversation: Conversation, fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 1"}), Turn.text("First."), Turn.text("Second.")])
    first = await conversation.send("First.", request_id="0c6bf7ae-6e32-4d77-8d31-3c7c1e8f3f10")
    again = await conversation.send("First.", request_id="0c6bf7ae-6e32-4d77-8d31-3c7c1e8f3f10")
    assert again.turn_id == first.turn_id, "the same request_id starts one turn"
    second = await conversation.send("Second.")
    assert second.queued and second.queue_position == 1
    refused = await rpc_error(conversation.send("Third.", if_busy=api.BUSY_POLICY_REJECT))
    assert_error(refused, grpc.StatusCode.FAILED_PRECONDITION, "SESSION_BUSY")
    events = await conversation.until_turn_completed(turns=2)
    completed = [e.turn_completed.turn_id for e in events if e.HasField("turn_completed")]
    assert completed == [first.turn_id, second.turn_id]
    answers = [
        e.block_complete.block.assistant_text.content
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("assistant_text")
    ]
    assert answers == ["First.", "Second."]


async def test_changed_and_deleted_files_are_saved_and_announced(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    # Each turn ends only once its changes are saved and announced, so two turns give two clear pictures.
    fake_model.script([Turn.tool_use("Bash", {"command": "echo one > a.txt && echo two > b.txt"}), Turn.text("Made.")])
    await conversation.send("Make two files.")
    made = file_events(await conversation.until_turn_completed())
    assert sorted(made) == [("file_created", "a.txt", digest(b"one\n")), ("file_created", "b.txt", digest(b"two\n"))]

    fake_model.script([Turn.tool_use("Bash", {"command": "echo more >> a.txt && rm b.txt"}), Turn.text("Changed.")])
    await conversation.send("Change them.")
    changed = file_events(await conversation.until_turn_completed())
    assert sorted(changed) == [("file_deleted", "b.txt", ""), ("file_modified", "a.txt", digest(b"one\nmore\n"))]
    stored = await conversation.stub.GetWorkspaceFile(
        api.GetWorkspaceFileRequest(session_id=conversation.session_id, path="a.txt"), metadata=AUTH
    )
    assert stored.content == b"one\nmore\n"
    listed = await conversation.stub.ListWorkspaceFiles(
        api.ListWorkspaceFilesRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert [f.path for f in listed.files] == ["a.txt"]


async def test_get_session_rebuilds_the_streamed_blocks_from_the_transcript(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "echo hi"}), Turn.text("Said hi.")])
    await conversation.send("Say hi.")
    events = await conversation.until_turn_completed()
    streamed = {
        e.block_complete.block_id: e.block_complete.block.WhichOneof("kind")
        for e in events
        if e.HasField("block_complete")
    }

    runtime.restart()  # nothing loaded, no sandbox: the blocks come from the stored transcript alone
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        session = await stub.GetSession(api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    rebuilt = {block.id: block.WhichOneof("kind") for block in session.blocks}
    assert rebuilt == streamed
    assert [b.WhichOneof("kind") for b in session.blocks] == [
        "user_message", "tool_use", "tool_result", "assistant_text"
    ]  # fmt: skip
    assert session.blocks[1].tool_use.status == blocks_pb2.TOOL_STATUS_SUCCESS
    assert session.blocks[3].assistant_text.content == "Said hi."
    assert all(b.timestamp.seconds > 0 for b in session.blocks)


async def test_binary_files_are_kept_and_an_oversized_one_is_reported(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    command = "printf '\\000\\377\\001' > data/blob.bin && head -c 11000000 /dev/zero > huge.bin"
    fake_model.script([Turn.tool_use("Bash", {"command": f"mkdir -p data && {command}"}), Turn.text("Made.")])
    await conversation.send("Make a small binary file and a huge one.")
    events = await conversation.until_turn_completed()
    assert ("file_created", "data/blob.bin", digest(b"\x00\xff\x01")) in file_events(events)
    errors = [e.error for e in events if e.HasField("error")]
    assert errors and all(e.code == "FILE_TOO_LARGE" and "huge.bin" in e.message for e in errors)
    listed = await conversation.stub.ListWorkspaceFiles(
        api.ListWorkspaceFilesRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert [f.path for f in listed.files] == ["data/blob.bin"], "the oversized file is not stored"


async def test_deleting_a_session_mid_turn_interrupts_it_and_keeps_what_was_stored(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "echo early > early.txt; sleep 3434"})])
    await conversation.send("Work for a long time.")
    await until_sleeping("^sleep 3434")
    deleted = await conversation.stub.DeleteSession(
        api.DeleteSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert deleted.unloaded and not deleted.purged
    events = await conversation.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_INTERRUPTED
    assert not sleeping("^sleep 3434")
    stored = await conversation.stub.GetWorkspaceFile(
        api.GetWorkspaceFileRequest(session_id=conversation.session_id, path="early.txt"), metadata=AUTH
    )
    assert stored.content == b"early\n", "the workspace was saved before the sandbox ended"


async def test_changed_options_apply_to_the_next_turn(conversation: Conversation, fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.text("One."), Turn.text("Two.")])
    await conversation.send("First.")
    await conversation.until_turn_completed()
    await conversation.stub.UpdateSession(
        api.UpdateSessionRequest(
            session_id=conversation.session_id,
            session=session_pb2.Session(session_options=session_pb2.SessionOptions(model="model-after-update")),
            update_mask=field_mask_pb2.FieldMask(paths=["session_options"]),
        ),
        metadata=AUTH,
    )
    await conversation.send("Second.")
    await conversation.until_turn_completed()
    assert fake_model.message_requests()[-1].body["model"] == "model-after-update"


async def test_last_activity_follows_the_turns_and_is_stored(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    request = api.GetSessionRequest(session_id=conversation.session_id)
    created = (await conversation.stub.GetSession(request, metadata=AUTH)).created_at.ToNanoseconds()
    fake_model.script([Turn.text("One."), Turn.text("Two.")])
    activity = []
    for message in ("First.", "Second."):
        await conversation.send(message)
        events = await conversation.until_turn_completed()
        session = await conversation.stub.GetSession(request, metadata=AUTH)
        activity.append(session.last_activity.ToNanoseconds())
        assert activity[-1] >= events[-1].time.ToNanoseconds(), "as late as the turn's end"
    assert created < activity[0] < activity[1]

    runtime.restart()
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        stored = await stub.GetSession(request, metadata=AUTH)
    assert stored.last_activity.ToNanoseconds() == activity[1]


async def test_the_log_says_when_a_turn_starts_and_ends(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.text("Logged.")])
    sent = await conversation.send("Say something.")
    await conversation.until_turn_completed()

    logged = runtime.process.text()
    assert f"session {conversation.session_id}: turn {sent.turn_id} started" in logged
    assert f"session {conversation.session_id}: turn {sent.turn_id} ended COMPLETED after " in logged
    assert f"session {conversation.session_id} loaded (anthropic, profile default)" in logged
    assert "httpx" not in logged, "the model client's request lines are not at INFO"
