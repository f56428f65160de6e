"""Once SendMessage has answered, the message is stored and runs exactly once: across SIGKILLs of the
runtime, restarts, and a request_id retried after one."""

from __future__ import annotations

import asyncio
import random
import signal

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation, sleeping, until_sleeping
from tests.integration.agents.test_recovery import dense_from
from tests.integration.conftest import AUTH, Runtime, launch, rpc_error
from tests.support.rpc import assert_error, channel


def killed_and_started_again(runtime: Runtime) -> None:
    runtime.process.stop(signal.SIGKILL)
    runtime.process = launch(runtime.data_dir, runtime.profiles_dir, runtime.extra_args, runtime.env)


def turns_of(events: list[events_pb2.SessionEvent], kind: str) -> list[str]:
    """The turn id of each event of `kind` (message_accepted, turn_started, turn_completed), in order."""
    return [getattr(e, kind).turn_id for e in events if e.HasField(kind)]  # type: ignore[arg-type]


async def all_events(conversation: Conversation) -> list[events_pb2.SessionEvent]:
    request = api.StreamSessionEventsRequest(session_id=conversation.session_id, follow=False)
    return [r.event async for r in conversation.stub.StreamSessionEvents(request, metadata=AUTH) if r.HasField("event")]


async def test_a_message_queued_behind_a_long_turn_survives_a_sigkill_and_runs_after_the_restart(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3301"})])
    first = await conversation.send("Wait for a long time.")
    await until_sleeping("sleep 3301")
    second = await conversation.send("And then this.")
    assert second.queued and second.queue_position == 1

    seen = await conversation.until_event("message_accepted", second.turn_id)
    assert seen.message_accepted.queued and seen.message_accepted.queue_position == 1, "every stream shows it queued"

    fake_model.script([Turn.text("Here is the second answer.")])
    killed_and_started_again(runtime)
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        # Nobody sends again: the restarted runtime finds the waiting message and runs it.
        await conversation.until_turn_completed(turns=2)
        events = await all_events(conversation)
    assert dense_from(events, 1)
    assert turns_of(events, "turn_started") == [first.turn_id, second.turn_id]
    completed = [e.turn_completed for e in events if e.HasField("turn_completed")]
    assert [(c.turn_id, c.outcome) for c in completed] == [
        (first.turn_id, events_pb2.TURN_OUTCOME_INTERRUPTED),
        (second.turn_id, events_pb2.TURN_OUTCOME_COMPLETED),
    ]
    asked = [m["content"] for m in fake_model.message_requests()[-1].messages if m["role"] == "user"]
    assert asked == ["And then this."], "the interrupted turn left nothing in the transcript"


async def test_three_queued_messages_each_run_exactly_once_in_order_across_two_sigkills(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    # Each turn runs a command, then answers; a killed turn may leave its answer to the next one.
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 0.6"}), Turn.text("Done.")] * 6)
    sent = [await conversation.send(f"Message {n}.") for n in (1, 2, 3)]
    assert [(s.queued, s.queue_position) for s in sent] == [(False, 0), (True, 1), (True, 2)]

    for _ in range(2):
        await asyncio.sleep(chance.uniform(0.0, 1.5))
        killed_and_started_again(runtime)
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        await asyncio.wait_for(conversation.until_turns_ended([s.turn_id for s in sent]), 90)
        events = await all_events(conversation)
    fake_model.discard()

    ids = [s.turn_id for s in sent]
    assert dense_from(events, 1), f"seed {seed}"
    assert turns_of(events, "message_accepted") == ids, f"seed {seed}"
    assert turns_of(events, "turn_started") == ids, f"each ran once, in order (seed {seed})"
    assert turns_of(events, "turn_completed") == ids, f"seed {seed}"


async def test_the_tokens_a_turn_spent_before_a_sigkill_are_counted_after_the_restart(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3303"})])  # one model call: 25 tokens in, 12 out
    await conversation.send("Spend, then wait.")
    await until_sleeping("sleep 3303")
    fake_model.script([Turn.text("Counted.")])  # and one more
    await conversation.send("Then this.")

    killed_and_started_again(runtime)
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        await conversation.until_turn_completed(turns=2)
        session = await conversation.stub.GetSession(
            api.GetSessionRequest(session_id=conversation.session_id), metadata=AUTH
        )
    assert (session.usage.input_tokens, session.usage.output_tokens) == (50, 24), "both model calls are counted"


async def test_the_same_request_id_after_a_restart_answers_the_first_turn_and_starts_nothing(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    request_id = "0b9c5a3e-8d0f-4c61-9e55-0b6a1f3c2d47"
    fake_model.script([Turn.text("Once."), Turn.text("Another.")])
    first = await conversation.send("Only once, please.", request_id=request_id)
    await conversation.until_turn_completed()
    await conversation.send("Something else.")  # the first message is no longer the last one
    await conversation.until_turn_completed()
    asked = len(fake_model.message_requests())

    killed_and_started_again(runtime)
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        again = await conversation.send("Only once, please.", request_id=request_id)
        assert (again.turn_id, again.user_message.id) == (first.turn_id, first.user_message.id)
        assert not again.queued
        await conversation.stub.SyncSession(api.SyncSessionRequest(session_id=conversation.session_id), metadata=AUTH)
        events = await all_events(conversation)
    assert turns_of(events, "message_accepted") == turns_of(events, "turn_started")
    assert turns_of(events, "message_accepted").count(first.turn_id) == 1
    assert len(fake_model.message_requests()) == asked, "no second turn reached the model"


async def test_interrupt_stops_the_running_turn_and_the_queued_message_runs_next(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3302"}), Turn.text("Next one.")])
    first = await conversation.send("Work for a long time.")
    await until_sleeping("sleep 3302")
    second = await conversation.send("Then this.")
    interrupted = await conversation.stub.InterruptSession(
        api.InterruptSessionRequest(session_id=conversation.session_id), metadata=AUTH
    )
    assert (interrupted.interrupted, interrupted.turn_id) == (True, first.turn_id)
    events = await conversation.until_turns_ended([first.turn_id, second.turn_id])
    completed = [(e.turn_completed.turn_id, e.turn_completed.outcome) for e in events if e.HasField("turn_completed")]
    assert completed == [
        (first.turn_id, events_pb2.TURN_OUTCOME_INTERRUPTED),
        (second.turn_id, events_pb2.TURN_OUTCOME_COMPLETED),
    ]


async def test_unloading_a_session_cancels_its_queued_messages_and_they_never_run(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3303"})])
    first = await conversation.send("Work for a long time.")
    await until_sleeping("sleep 3303")
    waiting = [await conversation.send(f"Waiting {n}.") for n in (1, 2)]
    await conversation.stub.DeleteSession(api.DeleteSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    events = await conversation.until_turns_ended([first.turn_id, *(w.turn_id for w in waiting)])
    completed = [(e.turn_completed.turn_id, e.turn_completed.outcome) for e in events if e.HasField("turn_completed")]
    assert completed == [
        (first.turn_id, events_pb2.TURN_OUTCOME_INTERRUPTED),
        *((w.turn_id, events_pb2.TURN_OUTCOME_CANCELLED) for w in waiting),
    ]
    assert turns_of(events, "turn_started") == [first.turn_id]

    runtime.restart()  # a cancelled message stays cancelled: nothing runs when the runtime comes back
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        fake_model.script([Turn.text("Fresh.")])
        fresh = await conversation.send("A fresh message.")
        assert not fresh.queued
        after = await conversation.until_turn_completed()
    assert turns_of(after, "turn_started") == [fresh.turn_id]


async def test_purging_a_session_drops_its_queued_messages_with_everything_else(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3304"})])
    await conversation.send("Work for a long time.")
    await until_sleeping("sleep 3304")
    await conversation.send("Waiting.")
    purge = api.DeleteSessionRequest(session_id=conversation.session_id, purge=True)
    assert (await conversation.stub.DeleteSession(purge, metadata=AUTH)).purged
    runtime.restart()
    async with channel(runtime.address) as open_channel:
        conversation.stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        gone = await rpc_error(conversation.send("Anyone?"))
    assert_error(gone, grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")
    assert fake_model.remaining() == 0 and not sleeping("sleep 3304")
