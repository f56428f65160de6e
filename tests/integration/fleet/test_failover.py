"""A dead replica is replaced and a paused one cannot corrupt: the owner of a session is SIGKILLed or
SIGSTOPped at a random point of a turn, another replica takes the session over, and the stored log stays
whole: dense, each accepted message ended once and run at most once, no turn inside another, nothing
written by the old owner after the new one took over."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn, text, tool_use
from tests.integration.agents.conftest import Conversation, until_sleeping
from tests.integration.conftest import AUTH
from tests.integration.fleet.conftest import (
    LEASE_TTL,
    Fleet,
    check_log,
    completed,
    new_conversation,
    send_until_taken,
    stored_log,
)

INTERRUPTED_BY_DEATH = "the runtime stopped during this turn"


def user_messages(fake: FakeAnthropic) -> list[str]:
    """What the model was last told the user said, in order."""
    return [m["content"] for m in fake.message_requests()[-1].messages if isinstance(m["content"], str)]


@pytest.mark.parametrize("attempt", range(4))
async def test_a_replica_killed_mid_turn_is_replaced_and_nothing_is_lost(
    fleet: Fleet, fake_model: FakeAnthropic, attempt: int
) -> None:
    step = tool_use("Bash", {"command": "echo step >> steps.txt; sleep 0.3"})
    fake_model.repeat([Turn([text("Working on it. " * 20, pieces=10), step]), Turn.text("Done.")])
    talk = await new_conversation(fleet["r1"].stub)
    first = await talk.send("First.")
    await talk.until_turns_ended([first.turn_id])
    owner = await fleet.owner(talk.session_id)
    survivor = random.choice(fleet.others(owner))
    talk.stub = fleet[survivor].stub

    sent = [await talk.send(f"Message {n}.") for n in range(2)]  # one runs, one waits
    await asyncio.sleep(random.uniform(0.0, 1.2))
    killed_at = time.monotonic()
    fleet[owner].process.stop(signal.SIGKILL)
    try:
        events = await asyncio.wait_for(talk.until_turns_ended([s.turn_id for s in sent]), LEASE_TTL + 30)
        taken = [e for e in events if e.time.ToNanoseconds() / 1e9 > time.time() - (time.monotonic() - killed_at)]
        if taken:  # work was left: another replica took it within the lease's time and a few seconds
            first_taken = taken[0].time.ToNanoseconds() / 1e9 - (time.time() - (time.monotonic() - killed_at))
            assert first_taken <= LEASE_TTL + 5, f"taken over {first_taken:.1f}s after the kill"

        last = await send_until_taken(talk, "After.", owner, within=LEASE_TTL + 5)
        await asyncio.wait_for(talk.until_turns_ended([last.turn_id]), 30)
        ended = check_log(await stored_log(talk.stub, talk.session_id))
        assert ended[last.turn_id].outcome == events_pb2.TURN_OUTCOME_COMPLETED
        for turn in sent:
            if ended[turn.turn_id].outcome != events_pb2.TURN_OUTCOME_COMPLETED:
                assert ended[turn.turn_id].outcome == events_pb2.TURN_OUTCOME_INTERRUPTED
                assert ended[turn.turn_id].message == INTERRUPTED_BY_DEATH
        contents = {
            first.turn_id: "First.",
            sent[0].turn_id: "Message 0.",
            sent[1].turn_id: "Message 1.",
            last.turn_id: "After.",
        }
        # Every completed turn, in order; and a turn the owner died in may be there too, if it died after the
        # turn's transcript was saved and before its end was: the agent remembers it, the log says interrupted.
        remembered = user_messages(fake_model)
        assert [m for m in remembered if m in {contents[t] for t in completed(ended)}] == [
            contents[t] for t in completed(ended)
        ], "the conversation goes on"
        assert remembered == [contents[t] for t in ended if contents[t] in remembered], "in order, each once"
        assert await fleet.owner(talk.session_id, via=survivor) != owner
    finally:
        fake_model.discard()
        await fleet.restart(owner)


async def interrupt_until_ended(talk: Conversation, turn_id: str) -> None:
    """Interrupts the turn, which the new owner may not have started yet (a message the paused one had only
    accepted runs there), until it has ended."""
    for _ in range(60):
        await talk.stub.InterruptSession(api.InterruptSessionRequest(session_id=talk.session_id), metadata=AUTH)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(talk.until_event("turn_completed", turn_id), 0.5)
            return
    raise AssertionError(f"turn {turn_id} never ended")


@pytest.mark.parametrize("attempt", range(3))
async def test_a_paused_replica_writes_nothing_once_another_took_over_and_stops_its_work(
    fleet: Fleet, fake_model: FakeAnthropic, attempt: int
) -> None:
    marker = f"sleep 30.{attempt}{random.randrange(10**6)}"
    talk = await new_conversation(fleet["r2"].stub)
    owner = "r2"
    fake_model.discard()  # what an attempt before left
    fake_model.script([Turn([text("Sleeping. " * 20, pieces=10), tool_use("Bash", {"command": marker})])])
    fake_model.repeat([Turn.text("Awake.")])
    sleeping = await talk.send("Sleep.")
    await asyncio.sleep(random.uniform(0.0, 1.0))
    os.kill(fleet[owner].pid, signal.SIGSTOP)
    survivor = random.choice(fleet.others(owner))
    talk.stub = fleet[survivor].stub
    try:
        await asyncio.sleep(LEASE_TTL)
        for _ in range(100):  # the lease lapses, and another replica takes the session
            if await fleet.owner(talk.session_id, via=survivor) != owner:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("nobody took the session over from the paused replica")
        await interrupt_until_ended(talk, sleeping.turn_id)
        fake_model.discard()  # the sleep, if the paused owner never asked for it: no later turn takes it
        fake_model.repeat([Turn.text("Awake.")])
        during = await talk.send("While it sleeps.")
        await asyncio.wait_for(talk.until_turns_ended([during.turn_id]), 30)
    finally:
        os.kill(fleet[owner].pid, signal.SIGCONT)

    await until_sleeping(marker, running=False)  # the paused replica, back, stopped its copy of the turn
    after = await talk.send("After it woke.")
    await asyncio.wait_for(talk.until_turns_ended([after.turn_id]), 30)
    await asyncio.sleep(LEASE_TTL)  # time for the old owner to write, were it able to
    stored = await stored_log(talk.stub, talk.session_id)
    ended = check_log(stored)
    assert ended[during.turn_id].outcome == ended[after.turn_id].outcome == events_pb2.TURN_OUTCOME_COMPLETED
    assert stored[-1].HasField("turn_completed") and stored[-1].turn_completed.turn_id == after.turn_id
    assert "lease lost" in fleet[owner].log(), "the paused replica learned it lost the session"
    fake_model.discard()
