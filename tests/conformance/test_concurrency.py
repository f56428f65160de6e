"""Writers racing on one log, and many sessions written at once: the log stays dense and nothing is lost."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc

from agent_runtime._gen.agentruntime.v1 import events_pb2
from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from tests.conformance.helpers import create_session, read_all_events, sequences, text_events
from tests.support.rpc import assert_error

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

WRITERS = 20


def deltas(events: list[events_pb2.SessionEvent]) -> list[str]:
    return [event.block_delta.delta for event in events]


async def test_of_writers_racing_from_the_same_sequence_exactly_one_wins(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    await storage.AppendEvents(
        pb.AppendEventsRequest(session_id=session_id, expected_last_sequence=0, events=text_events(session_id, 1, 1))
    )

    results = await asyncio.gather(
        *(
            storage.AppendEvents(
                pb.AppendEventsRequest(
                    session_id=session_id,
                    expected_last_sequence=1,
                    events=text_events(session_id, 2, 3, marker=f"writer-{writer}"),
                )
            )
            for writer in range(WRITERS)
        ),
        return_exceptions=True,
    )

    winners = [writer for writer, result in enumerate(results) if isinstance(result, pb.AppendEventsResponse)]
    assert len(winners) == 1, f"{len(winners)} of {WRITERS} racing appends succeeded"
    assert results[winners[0]] == pb.AppendEventsResponse(last_sequence=4)
    for result in results:
        if not isinstance(result, pb.AppendEventsResponse):
            assert isinstance(result, grpc.aio.AioRpcError), result
            assert_error(result, grpc.StatusCode.ABORTED, "SEQUENCE_MISMATCH")
    events = await read_all_events(storage, session_id)
    assert sequences(events) == [1, 2, 3, 4]
    assert deltas(events)[1:] == [f"writer-{winners[0]}#{n}" for n in (2, 3, 4)]


async def test_writers_that_retry_on_mismatch_all_get_their_events_in(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    writers, batches = 8, 5

    async def write(writer: int) -> None:
        for batch in range(batches):
            while True:
                head = await storage.ReadEvents(pb.ReadEventsRequest(session_id=session_id, after_sequence=1 << 40))
                events = text_events(session_id, head.last_sequence + 1, 2, marker=f"w{writer}-b{batch}")
                try:
                    await storage.AppendEvents(
                        pb.AppendEventsRequest(
                            session_id=session_id, expected_last_sequence=head.last_sequence, events=events
                        )
                    )
                    break
                except grpc.aio.AioRpcError as error:
                    assert_error(error, grpc.StatusCode.ABORTED, "SEQUENCE_MISMATCH")

    await asyncio.gather(*(write(writer) for writer in range(writers)))

    events = await read_all_events(storage, session_id)
    assert sequences(events) == list(range(1, writers * batches * 2 + 1))
    markers = [delta.split("#")[0] for delta in deltas(events)]
    assert markers[0::2] == markers[1::2], "a batch was split"
    for writer in range(writers):
        mine = [marker for marker in markers[0::2] if marker.startswith(f"w{writer}-")]
        assert mine == [f"w{writer}-b{batch}" for batch in range(batches)], "lost, doubled or reordered batches"


async def test_many_sessions_written_at_once_all_succeed(storage: Storage) -> None:
    sessions = await asyncio.gather(*(create_session(storage) for _ in range(WRITERS)))
    ids = [record.session_id for record in sessions]
    appends_per_session, batch = 10, 3

    async def write(session_id: str) -> None:
        for n in range(appends_per_session):
            first = n * batch + 1
            response = await storage.AppendEvents(
                pb.AppendEventsRequest(
                    session_id=session_id,
                    expected_last_sequence=first - 1,
                    events=text_events(session_id, first, batch, marker=session_id),
                )
            )
            assert response.last_sequence == first + batch - 1

    async def busy_elsewhere(session_id: str) -> None:
        for n in range(appends_per_session):
            await storage.SaveTranscript(pb.SaveTranscriptRequest(session_id=session_id, raw_transcript=f"t{n}"))

    await asyncio.gather(*(write(i) for i in ids), *(busy_elsewhere(i) for i in ids))

    for session_id in ids:
        events = await read_all_events(storage, session_id)
        assert sequences(events) == list(range(1, appends_per_session * batch + 1))
        assert {delta.split("#")[0] for delta in deltas(events)} == {session_id}
        loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=session_id))
        assert loaded.raw_transcript == f"t{appends_per_session - 1}"
