"""Any replica answers any call: a session's work happens on the replica holding its lease, and calls sent
to the others reach it, with the caller's request_id, so a retry anywhere is the same message."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import until_sleeping
from tests.integration.conftest import API_KEY, AUTH
from tests.integration.fleet.conftest import REPLICAS, Fleet, check_log, new_conversation, stored_log
from tests.support import processes


async def listed_owner(fleet: Fleet, via: str, session_id: str) -> str:
    """The owner ListSessions at `via` shows, once it shows one (the bus brings it within moments)."""
    for _ in range(50):
        page = await fleet[via].stub.ListSessions(api.ListSessionsRequest(page_size=1000), metadata=AUTH)
        (listed,) = [s for s in page.sessions if s.session_id == session_id]
        if listed.runtime.owner_replica_id:
            return listed.runtime.owner_replica_id
        await asyncio.sleep(0.1)
    return ""


async def test_a_session_is_worked_by_one_replica_and_every_replica_answers_for_it(
    fleet: Fleet, fake_model: FakeAnthropic
) -> None:
    talk = await new_conversation(fleet["r1"].stub)
    session_id = talk.session_id
    fresh = await fleet["r3"].stub.GetSession(api.GetSessionRequest(session_id=session_id), metadata=AUTH)
    assert (fresh.runtime.loaded, fresh.runtime.owner_replica_id) == (False, ""), "nobody holds a new session"

    fake_model.script([Turn.text("Taken by r2.")])
    talk.stub = fleet["r2"].stub
    await talk.send("Who works for me?")
    await talk.until_turn_completed()
    for via in ("r1", "r2", "r3"):
        shown = await fleet[via].stub.GetSession(api.GetSessionRequest(session_id=session_id), metadata=AUTH)
        assert (shown.runtime.loaded, shown.runtime.owner_replica_id) == (True, "r2"), via
        assert shown.runtime.lease_generation >= 1
    assert await listed_owner(fleet, "r3", session_id) == "r2", "as r2 said on the bus"

    fake_model.script([Turn.text("Still r2.")])
    request_id = str(uuid.uuid4())
    first = await fleet["r3"].stub.SendMessage(
        api.SendMessageRequest(session_id=session_id, content="Sent to r3.", request_id=request_id), metadata=AUTH
    )
    retried = await fleet["r1"].stub.SendMessage(
        api.SendMessageRequest(session_id=session_id, content="Sent to r3.", request_id=request_id), metadata=AUTH
    )
    assert retried.turn_id == first.turn_id, "the retry sent elsewhere is the same message"
    await talk.until_turns_ended([first.turn_id])
    assert await fleet.owner(session_id, via="r3") == "r2", "forwarded, not taken"
    ended = check_log(await stored_log(fleet["r1"].stub, session_id))
    assert list(ended) == [e for e in ended] and len(ended) == 2
    assert [m["content"] for m in fake_model.message_requests()[-1].messages if m["role"] == "user"] == [
        "Who works for me?",
        "Sent to r3.",
    ]


async def test_interrupt_sync_and_options_sent_anywhere_reach_the_owner(
    fleet: Fleet, fake_model: FakeAnthropic
) -> None:
    talk = await new_conversation(fleet["r2"].stub)
    fake_model.script([Turn.tool_use("Bash", {"command": "echo kept > kept.txt; sleep 3131"}), Turn.text("Stopped.")])
    sent = await talk.send("Sleep a long time.")
    await until_sleeping("sleep 3131")
    owner = await fleet.owner(talk.session_id)
    elsewhere = fleet.others(owner)

    await fleet[elsewhere[0]].stub.SyncSession(api.SyncSessionRequest(session_id=talk.session_id), metadata=AUTH)
    kept = await fleet[elsewhere[1]].stub.GetWorkspaceFile(
        api.GetWorkspaceFileRequest(session_id=talk.session_id, path="kept.txt"), metadata=AUTH
    )
    assert kept.content == b"kept\n", "what the owner's sandbox holds is stored once SyncSession answers"
    interrupted = await fleet[elsewhere[1]].stub.InterruptSession(
        api.InterruptSessionRequest(session_id=talk.session_id), metadata=AUTH
    )
    assert (interrupted.interrupted, interrupted.turn_id) == (True, sent.turn_id)
    ended = await talk.until_event("turn_completed", sent.turn_id)
    assert ended.turn_completed.outcome == events_pb2.TURN_OUTCOME_INTERRUPTED
    await until_sleeping("sleep 3131", running=False)

    await fleet[elsewhere[0]].stub.UpdateSession(
        api.UpdateSessionRequest(
            session_id=talk.session_id,
            session=session_pb2.Session(session_options=session_pb2.SessionOptions(model="claude-fleet-test")),
            update_mask=field_mask_pb2.FieldMask(paths=["session_options"]),
        ),
        metadata=AUTH,
    )
    fake_model.script([Turn.text("With the new model.")])
    after = await fleet[elsewhere[1]].stub.SendMessage(
        api.SendMessageRequest(session_id=talk.session_id, content="Which model?"), metadata=AUTH
    )
    await talk.until_turns_ended([after.turn_id])
    assert fake_model.message_requests()[-1].body["model"] == "claude-fleet-test", "the owner took the options"
    assert await fleet.owner(talk.session_id) == owner


async def test_the_cli_shows_who_holds_a_session(fleet: Fleet, fake_model: FakeAnthropic) -> None:
    talk = await new_conversation(fleet["r3"].stub)
    fake_model.script([Turn.text("Here.")])
    await talk.send("Load yourself.")
    await talk.until_turn_completed()
    env = {**os.environ, "AGENT_RUNTIME_GRPC_ADDRESS": fleet["r1"].address, "AGENT_RUNTIME_API_KEY": API_KEY}
    shown = await asyncio.to_thread(
        subprocess.run,
        [processes.CLI, "sessions", "get", talk.session_id, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    runtime = json.loads(shown.stdout)["runtime"]
    assert runtime["ownerReplicaId"] == "r3" and int(runtime["leaseGeneration"]) >= 1


async def test_a_session_deleted_at_any_replica_is_unloaded_where_it_runs(
    fleet: Fleet, fake_model: FakeAnthropic
) -> None:
    talk = await new_conversation(fleet["r1"].stub)
    fake_model.script([Turn.text("Loaded on r1.")])
    await talk.send("Load.")
    await talk.until_turn_completed()
    deleted = await fleet["r3"].stub.DeleteSession(
        api.DeleteSessionRequest(session_id=talk.session_id, purge=True), metadata=AUTH
    )
    assert (deleted.unloaded, deleted.purged) == (True, True), "r1, which held it, unloaded it"
    for via in REPLICAS:
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await fleet[via].stub.GetSession(api.GetSessionRequest(session_id=talk.session_id), metadata=AUTH)
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
