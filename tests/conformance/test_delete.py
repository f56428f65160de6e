"""DeleteSessionRecord removes a session and everything stored with it, and nothing of any other."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import workspace_pb2
from tests.conformance.helpers import (
    create_session,
    expect_error,
    full_record,
    read_all_events,
    rich_events,
    sequences,
    stored_files,
    text_events,
)

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def fill(storage: Storage, record: pb.SessionRecord) -> None:
    """Stores the session with files, transcripts and events."""
    sid = record.session_id
    await create_session(storage, record, [workspace_pb2.WorkspaceFile(path="first.txt", content=b"1")])
    await storage.SaveWorkspaceFile(
        pb.SaveWorkspaceFileRequest(session_id=sid, file=workspace_pb2.WorkspaceFile(path="src/a.py", content=b"a"))
    )
    await storage.SaveTranscript(pb.SaveTranscriptRequest(session_id=sid, raw_transcript="main"))
    await storage.SaveTranscript(pb.SaveTranscriptRequest(session_id=sid, raw_transcript="sub", subagent_id="sub-1"))
    await storage.AppendEvents(
        pb.AppendEventsRequest(session_id=sid, expected_last_sequence=0, events=rich_events(sid, 1))
    )


async def all_session_ids(storage: Storage) -> list[str]:
    ids: list[str] = []
    token = ""
    while True:
        page = await storage.ListAllSessions(pb.ListAllSessionsRequest(page_size=1000, page_token=token))
        ids.extend(record.session_id for record in page.sessions)
        token = page.next_page_token
        if not token:
            return ids


async def test_a_deleted_session_is_gone_from_every_rpc(storage: Storage) -> None:
    record = full_record()
    await fill(storage, record)
    sid = record.session_id

    await storage.DeleteSessionRecord(pb.DeleteSessionRecordRequest(session_id=sid))

    for call in (
        storage.LoadSession(pb.LoadSessionRequest(session_id=sid)),
        storage.ListSessionFiles(pb.ListSessionFilesRequest(session_id=sid)),
        storage.GetSessionFile(pb.GetSessionFileRequest(session_id=sid, path="first.txt")),
        storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=sid)),
        storage.ReadEvents(pb.ReadEventsRequest(session_id=sid)),
        storage.DeleteSessionRecord(pb.DeleteSessionRecordRequest(session_id=sid)),
    ):
        await expect_error(call, NOT_FOUND, "SESSION_NOT_FOUND")
    assert sid not in await all_session_ids(storage)


async def test_a_session_created_again_under_a_deleted_id_starts_empty(storage: Storage) -> None:
    record = full_record()
    await fill(storage, record)
    await storage.DeleteSessionRecord(pb.DeleteSessionRecordRequest(session_id=record.session_id))
    again = full_record(record.session_id)
    again.name = "second life"

    await create_session(storage, again)

    loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=record.session_id))
    assert loaded.session == again
    assert (loaded.raw_transcript, list(loaded.subagents)) == ("", [])
    assert await stored_files(storage, record.session_id) == {}
    page = await storage.ReadEvents(pb.ReadEventsRequest(session_id=record.session_id))
    assert (list(page.events), page.last_sequence) == ([], 0)
    response = await storage.AppendEvents(
        pb.AppendEventsRequest(
            session_id=record.session_id, expected_last_sequence=0, events=text_events(record.session_id, 1, 2)
        )
    )
    assert response.last_sequence == 2


async def test_deleting_one_session_leaves_the_others_whole(storage: Storage) -> None:
    doomed, kept = full_record(), full_record()
    await fill(storage, doomed)
    await fill(storage, kept)
    before = await storage.LoadSession(pb.LoadSessionRequest(session_id=kept.session_id))

    await storage.DeleteSessionRecord(pb.DeleteSessionRecordRequest(session_id=doomed.session_id))

    assert await storage.LoadSession(pb.LoadSessionRequest(session_id=kept.session_id)) == before
    events = await read_all_events(storage, kept.session_id)
    assert events == rich_events(kept.session_id, 1)
    assert sequences(events) == list(range(1, 11))
