"""A rolling deploy: a replica stopped with SIGTERM lets its running turns finish within the grace, gives its
sessions back, and the other replicas carry on with them, queued messages included."""

from __future__ import annotations

import asyncio

from agent_runtime._gen.agentruntime.v1 import events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.fleet.conftest import Fleet, check_log, new_conversation, stored_log


async def test_a_stopped_replica_finishes_its_turns_and_hands_its_sessions_on(
    fleet: Fleet, fake_model: FakeAnthropic
) -> None:
    busy = await new_conversation(fleet["r3"].stub)
    idle = await new_conversation(fleet["r3"].stub)
    fake_model.script([Turn.text("Idle now.")])
    await idle.send("Load.")
    await idle.until_turn_completed()
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 1"}), Turn.text("Finished in the grace.")])
    fake_model.repeat([Turn.text("Run elsewhere.")])
    running = await busy.send("Take a second.")
    queued = await busy.send("Then this.")
    assert queued.queued
    busy.stub = idle.stub = fleet["r1"].stub

    code = await asyncio.to_thread(fleet["r3"].process.stop)
    assert code == 0
    events = await asyncio.wait_for(busy.until_turns_ended([running.turn_id, queued.turn_id]), 30)
    ended = {e.turn_completed.turn_id: e.turn_completed.outcome for e in events if e.HasField("turn_completed")}
    assert ended == {
        running.turn_id: events_pb2.TURN_OUTCOME_COMPLETED,
        queued.turn_id: events_pb2.TURN_OUTCOME_COMPLETED,
    }
    assert await fleet.owner(busy.session_id) in ("r1", "r2"), "the queued message ran on another replica"
    assert await fleet.owner(idle.session_id) == "", "given back, not left to expire"

    after = await idle.send("Carry on.")
    await idle.until_turns_ended([after.turn_id])
    assert await fleet.owner(idle.session_id) == "r1"
    for talk in (busy, idle):
        check_log(await stored_log(talk.stub, talk.session_id))
    fake_model.discard()
    await fleet.restart("r3")
