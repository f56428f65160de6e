"""The Python client package (clients/python) against a live runtime whose model is the fake Anthropic API: the
calls a user makes, a turn streamed back, a stream that carries on across runtime restarts, and errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest
from agent_runtime_client import AgentRuntimeClient, AgentRuntimeError, Reconnect, Status
from agent_runtime_client.v1 import (
    ClientTool,
    DeltaKind,
    PermissionAction,
    PermissionPolicy,
    PermissionRule,
    SessionEvent,
    SessionOptions,
    SessionView,
    TurnOutcome,
)

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import ARGS
from tests.integration.conftest import API_KEY, Runtime, launch, make_profiles
from tests.support import processes

UNKNOWN_SESSION = "3a1f0f3e-8d4b-4c55-9b0e-5b0c6f3f9a10"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic) -> Iterator[Runtime]:
    """A runtime on a fixed port: a client reconnects to the address it was given, so a restart must keep it."""
    root = tmp_path_factory.mktemp("python-client")
    profiles = make_profiles(root / "profiles")
    args = (*ARGS, f"--grpc-address=127.0.0.1:{processes.free_port()}")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, args, env), args, env)
    yield server
    server.process.stop()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[AgentRuntimeClient]:
    async with AgentRuntimeClient(runtime.address, API_KEY) as opened:
        yield opened


async def until_turns_completed(events: AsyncIterator[SessionEvent], turns: int = 1) -> list[SessionEvent]:
    """The events read up to the `turns`-th turn_completed."""
    seen: list[SessionEvent] = []
    async for event in events:
        seen.append(event)
        if event.turn_completed is not None:
            turns -= 1
            if turns == 0:
                return seen
    raise AssertionError(f"the stream ended after {len(seen)} events, before the turn completed")


def text_of(events: list[SessionEvent]) -> str:
    deltas = [e.block_delta for e in events if e.block_delta is not None]
    return "".join(d.delta for d in deltas if d.kind == DeltaKind.TEXT)


def sequences(events: list[SessionEvent]) -> list[int]:
    return [e.sequence for e in events]


async def test_sessions_are_created_read_listed_and_deleted(client: AgentRuntimeClient) -> None:
    created = await client.create_session("default", "anthropic", name="client test", metadata={"team": "blue"})
    assert created.session_id and created.architecture == "anthropic" and created.agent_profile_ref == "default"

    fetched = await client.get_session(created.session_id)
    assert fetched.name == "client test"
    assert fetched.metadata is not None and fetched.metadata.to_dict() == {"team": "blue"}
    basic = await client.get_session(created.session_id, view=SessionView.BASIC)
    assert basic.session_id == created.session_id

    listed = await client.list_sessions(page_size=1000)
    assert created.session_id in [s.session_id for s in listed.sessions]
    profiles = await client.list_profiles()
    assert {"default", "with-files"} <= {p.id for p in profiles}

    deleted = await client.delete_session(created.session_id, purge=True)
    assert deleted.session_id == created.session_id and deleted.purged
    with pytest.raises(AgentRuntimeError) as gone:
        await client.get_session(created.session_id)
    assert (gone.value.status, gone.value.reason) == (Status.NOT_FOUND, "SESSION_NOT_FOUND")


async def test_a_message_streams_back_as_the_assistants_text(
    client: AgentRuntimeClient, fake_model: FakeAnthropic
) -> None:
    session = await client.create_session("default", "anthropic")
    fake_model.script([Turn.text("Hello from the client test.")])
    sent = await client.send_message(session.session_id, "Hi")
    assert sent.turn_id and sent.user_message is not None

    async with aclosing(client.stream_events(session.session_id)) as events:
        turn = await until_turns_completed(events)
    assert sequences(turn) == list(range(1, len(turn) + 1)), "every event once, in order, from the first"
    accepted, started = turn[0].message_accepted, turn[1].turn_started
    assert accepted is not None and accepted.turn_id == sent.turn_id and not accepted.queued
    assert started is not None and started.turn_id == sent.turn_id
    assert text_of(turn) == "Hello from the client test."
    completed = turn[-1].turn_completed
    assert completed is not None and completed.outcome == TurnOutcome.COMPLETED

    async with aclosing(client.stream_events(session.session_id, after_sequence=3, follow=False)) as events:
        replayed = [event async for event in events]
    assert sequences(replayed) == sequences(turn)[3:], "without follow, the stream ends at the head"


async def test_a_stream_read_across_a_restart_yields_every_event_once(
    client: AgentRuntimeClient, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    session = await client.create_session("default", "anthropic")
    fake_model.script([Turn.text("Before the restart."), Turn.text("After the restart.")])
    await client.send_message(session.session_id, "First")
    async with aclosing(client.stream_events(session.session_id)) as events:
        first = await until_turns_completed(events)
        # The stream is open and nobody reads it while the runtime stops and starts again.
        await asyncio.to_thread(runtime.restart)
        await client.send_message(session.session_id, "Second")
        second = await until_turns_completed(events)

    seen = first + second
    assert sequences(seen) == list(range(1, len(seen) + 1)), "every event once, in order"
    assert text_of(first) == "Before the restart." and text_of(second) == "After the restart."


async def test_a_stream_being_read_carries_on_while_the_runtime_restarts(
    client: AgentRuntimeClient, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    session = await client.create_session("default", "anthropic")
    fake_model.script([Turn.text("One."), Turn.text("Two.")])
    await client.send_message(session.session_id, "First")
    async with aclosing(client.stream_events(session.session_id)) as events:
        first = await until_turns_completed(events)
        # A reader waits for the next event (heartbeats come meanwhile) while the runtime restarts.
        reading = asyncio.create_task(until_turns_completed(events))
        await asyncio.to_thread(runtime.restart)
        await client.send_message(session.session_id, "Second")
        second = await asyncio.wait_for(reading, 60)

    seen = first + second
    assert sequences(seen) == list(range(1, len(seen) + 1)), "every event once, in order"
    assert text_of(second) == "Two."


async def test_errors_carry_the_status_the_reason_and_the_field_violations(
    client: AgentRuntimeClient, runtime: Runtime
) -> None:
    with pytest.raises(AgentRuntimeError) as unknown:
        await client.get_session(UNKNOWN_SESSION)
    assert (unknown.value.status, unknown.value.reason, unknown.value.domain) == (
        Status.NOT_FOUND,
        "SESSION_NOT_FOUND",
        "agent-runtime",
    )

    with pytest.raises(AgentRuntimeError) as not_streamed:
        async with aclosing(client.stream_events(UNKNOWN_SESSION)) as events:
            await anext(events)
    assert (not_streamed.value.status, not_streamed.value.reason) == (Status.NOT_FOUND, "SESSION_NOT_FOUND")

    with pytest.raises(AgentRuntimeError) as invalid:
        await client.create_session("default", "opencode")
    assert (invalid.value.status, invalid.value.reason) == (Status.INVALID_ARGUMENT, "INVALID_ARCHITECTURE")
    assert invalid.value.violations_by_field == {"architecture": "INVALID_ARCHITECTURE"}

    async with AgentRuntimeClient(runtime.address, "not-the-key") as stranger:
        with pytest.raises(AgentRuntimeError) as refused:
            await stranger.list_sessions()
        assert (refused.value.status, refused.value.reason) == (Status.UNAUTHENTICATED, "API_KEY_INVALID")


async def test_a_runtime_that_cannot_be_reached_is_unavailable() -> None:
    nowhere = f"127.0.0.1:{processes.free_port()}"
    async with AgentRuntimeClient(nowhere, API_KEY, reconnect=Reconnect(first_delay=0.01, attempts=2)) as client:
        with pytest.raises(AgentRuntimeError) as unreachable:
            await client.list_profiles()
        assert unreachable.value.status == Status.UNAVAILABLE and unreachable.value.reason == ""
        with pytest.raises(AgentRuntimeError) as gave_up:
            async with aclosing(client.stream_events(UNKNOWN_SESSION)) as events:
                await anext(events)
        assert gave_up.value.status == Status.UNAVAILABLE, "a stream stops reconnecting after its attempts"


async def test_approvals_and_client_tools_are_answered_through_the_client(
    client: AgentRuntimeClient, fake_model: FakeAnthropic
) -> None:
    options = SessionOptions(
        permissions=PermissionPolicy(rules=[PermissionRule(rule="Write", action=PermissionAction.ASK)]),
        client_tools=[ClientTool(name="lookup_order", description="Finds an order.")],
    )
    session = await client.create_session("default", "anthropic", session_options=options)
    fake_model.script(
        [
            Turn.tool_use("Write", {"file_path": "a.txt", "content": "draft"}),
            Turn.tool_use("lookup_order", {"order": "42"}),
            Turn.text("Done."),
        ]
    )
    await client.send_message(session.session_id, "Write, then look it up.")
    async with aclosing(client.stream_events(session.session_id)) as events:
        async for event in events:
            if event.approval_requested is not None:
                resolved = await client.respond_to_approval(
                    session.session_id,
                    event.approval_requested.approval_id,
                    allow=True,
                    updated_input={"file_path": "a.txt", "content": "edited"},
                )
                assert resolved.answered_by == "caller"
            elif event.client_tool_call is not None:
                result = await client.submit_tool_result(
                    session.session_id, event.client_tool_call.call_id, {"status": "shipped"}
                )
                assert not result.is_error
            elif event.turn_completed is not None:
                assert event.turn_completed.outcome == TurnOutcome.COMPLETED
                break
    results = [r["content"] for r in fake_model.message_requests()[-1].tool_results]
    assert results[0] == "Wrote 6 bytes to a.txt" and '"shipped"' in results[1]
