"""StreamSessionEvents' responses, encoded once per event: each stream still gets its own session's event."""

from __future__ import annotations

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2
from agent_runtime.api.encoded_events import EncodedEvents

Response = agent_runtime_pb2.StreamSessionEventsResponse


def event(session_id: str, sequence: int, text: str) -> events_pb2.SessionEvent:
    return events_pb2.SessionEvent(
        session_id=session_id, sequence=sequence, block_delta=events_pb2.BlockDelta(block_id="b", delta=text)
    )


def decoded(encoded: bytes) -> Response:
    return Response.FromString(encoded)


def test_the_same_sequence_in_two_sessions_is_two_events() -> None:
    encoder = EncodedEvents()
    first = decoded(encoder.response("s1", event("s1", 7, "one")))
    second = decoded(encoder.response("s2", event("s2", 7, "two")))
    assert (first.event.block_delta.delta, second.event.block_delta.delta) == ("one", "two")


def test_events_past_the_budget_are_encoded_again_correctly() -> None:
    encoder = EncodedEvents(budget_bytes=64)
    events = [event("s", n, f"delta number {n}") for n in range(1, 20)]
    for item in events:
        encoder.response("s", item)
    again = [decoded(encoder.response("s", item)).event for item in events]
    assert again == events


def test_a_heartbeat_is_its_own_response() -> None:
    beat = agent_runtime_pb2.Heartbeat(head_sequence=12)
    assert decoded(EncodedEvents().response("s", beat)).heartbeat == beat
