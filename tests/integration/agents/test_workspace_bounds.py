"""What a session's workspace costs storage is bounded: a workspace larger than any message loads file by
file, file events carry no content and a rewrite loop stores a few of them, and a quota caps what is kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation, digest, file_events, open_conversation
from tests.integration.conftest import AUTH, Runtime
from tests.support.footprint import storage_bytes

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

COMPLETED = events_pb2.TURN_OUTCOME_COMPLETED
MESSAGE_LIMIT = 64 * 1024 * 1024
REWRITES = 300


def tool_output(fake_model: FakeAnthropic) -> str:
    return str(fake_model.message_requests()[-1].tool_results[-1]["content"])


async def test_a_workspace_larger_than_a_message_loads_after_an_unload(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    build = "mkdir -p build; for i in 1 2 3 4 5 6 7 8; do head -c 9000000 /dev/urandom > build/out-$i.bin; done"
    fake_model.script([Turn.tool_use("Bash", {"command": build}), Turn.text("Built.")])
    await conversation.send("Build it.")
    assert (await conversation.until_turn_completed())[-1].turn_completed.outcome == COMPLETED
    unloaded = await conversation.stub.DeleteSession(
        api.DeleteSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert unloaded.unloaded

    session_id = conversation.session_id
    basic = await conversation.stub.GetSession(
        api.GetSessionRequest(session_id=session_id, view=session_pb2.SESSION_VIEW_BASIC), metadata=AUTH
    )
    full = await conversation.stub.GetSession(api.GetSessionRequest(session_id=session_id), metadata=AUTH)
    assert basic.session_id == full.session_id == session_id
    assert [(f.path, f.size) for f in full.workspace_files] == [(f"build/out-{i}.bin", 9_000_000) for i in range(1, 9)]
    assert sum(f.size for f in full.workspace_files) > MESSAGE_LIMIT
    one = await conversation.stub.GetWorkspaceFile(
        api.GetWorkspaceFileRequest(session_id=session_id, path="build/out-3.bin"), metadata=AUTH
    )
    assert digest(one.content) == one.sha256 == full.workspace_files[2].sha256

    fake_model.script([Turn.tool_use("Bash", {"command": "sha256sum build/out-*.bin"}), Turn.text("Checked.")])
    await conversation.send("Is the build still there?")
    assert (await conversation.until_turn_completed())[-1].turn_completed.outcome == COMPLETED
    restored = tool_output(fake_model)
    assert all(f"{f.sha256}  {f.path}" in restored for f in full.workspace_files), restored


async def test_a_file_rewritten_in_a_loop_costs_the_log_little(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    before = storage_bytes(runtime.data_dir)
    churn = f"for i in $(seq {REWRITES}); do head -c 1000000 /dev/urandom > churn.bin; done; sha256sum churn.bin"
    fake_model.script([Turn.tool_use("Bash", {"command": churn}), Turn.text("Churned.")])
    await conversation.send("Rewrite it often.")
    events = await conversation.until_turn_completed()

    changes = [change for change in file_events(events) if change[1] == "churn.bin"]
    assert changes, "the file was announced"
    assert changes[-1][2] in tool_output(fake_model), "the last event describes the file as it ended"
    assert len(changes) < REWRITES / 3, f"{len(changes)} events for {REWRITES} rewrites: not coalesced"
    grown_mb = (storage_bytes(runtime.data_dir) - before) / 1e6
    assert grown_mb < 30, f"storage grew {grown_mb:.0f} MB for one 1 MB file"
    replay = conversation.stub.StreamSessionEvents(
        api.StreamSessionEventsRequest(session_id=conversation.session_id, follow=False), metadata=AUTH
    )
    replayed = [response.event async for response in replay if response.HasField("event")]
    assert replayed[-1].sequence == events[-1].sequence


async def test_a_change_past_the_workspace_quota_is_not_kept_and_says_so(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await open_conversation(stub, "anthropic", profile="small-workspace")
    write = "head -c 2000000 /dev/zero > first.bin; head -c 2000000 /dev/zero > second.bin; echo small > third.txt"
    fake_model.script([Turn.tool_use("Bash", {"command": write}), Turn.text("Wrote.")])
    await conversation.send("Fill the workspace.")
    events = await conversation.until_turn_completed()

    assert events[-1].turn_completed.outcome == COMPLETED, "the turn goes on; the file is just not kept"
    errors = [e.error for e in events if e.HasField("error")]
    assert [e.code for e in errors] == ["WORKSPACE_QUOTA_EXCEEDED"]
    assert "quota of 3000000" in errors[0].message
    listed = await stub.ListWorkspaceFiles(
        api.ListWorkspaceFilesRequest(session_id=conversation.session_id), metadata=AUTH
    )
    kept = {f.path for f in listed.files}
    assert "third.txt" in kept and len(kept & {"first.bin", "second.bin"}) == 1, kept
    assert sum(f.size for f in listed.files) <= 3_000_000


async def test_a_full_workspace_disk_is_said_once_on_the_stream(stub: Stub, fake_model: FakeAnthropic) -> None:
    conversation = await open_conversation(stub, "anthropic", profile="small-workspace")
    fill = "dd if=/dev/zero of=fill bs=1M count=100; dd if=/dev/zero of=again bs=1M count=10; df -h ."
    fake_model.script([Turn.tool_use("Bash", {"command": fill}), Turn.text("Filled.")])
    await conversation.send("Fill the disk.")
    events = await conversation.until_turn_completed()

    assert events[-1].turn_completed.outcome == COMPLETED
    assert "No space left on device" in tool_output(fake_model)
    full = [e.error for e in events if e.HasField("error") and e.error.code == "WORKSPACE_DISK_FULL"]
    assert len(full) == 1, [e.error for e in events if e.HasField("error")]
    assert "limits.diskBytes" in full[0].message
