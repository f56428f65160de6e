"""Any replica streams any session: every event, in order, with no gap and no duplicate, live while another
replica writes them, and on from a cursor at another replica; and any replica's watch sees every change."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn, text
from tests.integration.conftest import AUTH
from tests.integration.fleet.conftest import REPLICAS, Fleet, check_log, new_conversation, stored_log

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

# An answer that streams as many deltas.
LONG_ANSWER = Turn([text(" ".join(f"word{n}" for n in range(120)), pieces=40)])


async def follow(stub: Stub, session_id: str, turns: int, after: int = 0) -> list[events_pb2.SessionEvent]:
    """The session's events after `after` up to its `turns`-th turn_completed from there."""
    request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True)
    stream = stub.StreamSessionEvents(request, metadata=AUTH)
    seen: list[events_pb2.SessionEvent] = []
    async for response in stream:
        if response.HasField("event"):
            seen.append(response.event)
            turns -= response.event.HasField("turn_completed")
            if turns == 0:
                break
    stream.cancel()
    return seen


async def test_every_replica_streams_a_session_another_replica_works(fleet: Fleet, fake_model: FakeAnthropic) -> None:
    talk = await new_conversation(fleet["r1"].stub)
    followers = [asyncio.create_task(follow(fleet[r].stub, talk.session_id, turns=3)) for r in REPLICAS]
    fake_model.script([LONG_ANSWER] * 3)
    for n in range(3):
        await fleet[REPLICAS[n]].stub.SendMessage(
            api.SendMessageRequest(session_id=talk.session_id, content=f"Message {n}."), metadata=AUTH
        )
    seen = await asyncio.wait_for(asyncio.gather(*followers), 60)
    stored = await stored_log(fleet["r2"].stub, talk.session_id)
    check_log(stored)
    assert sum(e.HasField("block_delta") for e in stored) > 30, "a long answer streams in many deltas"
    for replica_id, events in zip(REPLICAS, seen, strict=True):
        assert events == stored, f"{replica_id} streamed every event once, in order"

    half = len(stored) // 2
    fake_model.script([LONG_ANSWER])
    sent = await fleet["r3"].stub.SendMessage(
        api.SendMessageRequest(session_id=talk.session_id, content="Once more."), metadata=AUTH
    )
    ended_after_half = sum(e.HasField("turn_completed") for e in stored[half:])
    resumed = await follow(fleet["r3"].stub, talk.session_id, turns=ended_after_half + 1, after=half)
    assert resumed[-1].turn_completed.turn_id == sent.turn_id
    assert [e.sequence for e in resumed] == list(range(half + 1, resumed[-1].sequence + 1)), "on from the cursor"


async def test_a_watch_on_any_replica_sees_every_replicas_changes(fleet: Fleet, fake_model: FakeAnthropic) -> None:
    watch = fleet["r3"].stub.WatchSessions(api.WatchSessionsRequest(), metadata=AUTH)
    await watch.initial_metadata()
    talk = await new_conversation(fleet["r1"].stub)
    fake_model.script([Turn.text("Watched.")])
    await fleet["r2"].stub.SendMessage(
        api.SendMessageRequest(session_id=talk.session_id, content="Change."), metadata=AUTH
    )
    seen: list[tuple[int, str, bool]] = []
    async with asyncio.timeout(30):
        async for response in watch:
            change = response.change
            if response.HasField("change") and change.session.session_id == talk.session_id:
                runtime = change.session.runtime
                seen.append((change.kind, runtime.owner_replica_id, runtime.turn_running))
                if change.kind == api.SESSION_CHANGE_KIND_STATUS and seen[-1][1:] == ("r2", False) and len(seen) > 2:
                    break
    watch.cancel()
    assert seen[0][0] == api.SESSION_CHANGE_KIND_CREATED, "the create on r1"
    assert (api.SESSION_CHANGE_KIND_STATUS, "r2", True) in seen, "r2's turn, running"


async def test_thirty_sessions_and_a_hundred_subscribers_spread_over_the_replicas(
    fleet: Fleet, fake_model: FakeAnthropic
) -> None:
    talks = [await new_conversation(fleet[REPLICAS[n % 3]].stub) for n in range(30)]
    subscribers = [
        asyncio.create_task(follow(fleet[REPLICAS[n % 3]].stub, talks[n % 30].session_id, turns=1)) for n in range(100)
    ]
    fake_model.script([LONG_ANSWER] * 30)
    await asyncio.gather(
        *(
            fleet[random.choice(REPLICAS)].stub.SendMessage(
                api.SendMessageRequest(session_id=talk.session_id, content="Go."), metadata=AUTH
            )
            for talk in talks
        )
    )
    seen = await asyncio.wait_for(asyncio.gather(*subscribers), 120)
    stored = {talk.session_id: await stored_log(fleet["r1"].stub, talk.session_id) for talk in talks}
    for n, events in enumerate(seen):
        log = stored[talks[n % 30].session_id]
        check_log(log)
        assert events == log, f"subscriber {n} on {REPLICAS[n % 3]} got every event of its session, in order"
    owners = {await fleet.owner(talk.session_id) for talk in talks}
    assert len(owners) > 1, "the sessions were spread over the replicas"
