"""Storage that stores a batch of events and then loses its answer (a crash between commit and reply, a
dropped connection): the retried write finds the batch where it was stored, so no event is stored twice
and the sequence stays dense."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2, persistence_pb2_grpc
from agent_runtime.events.log import EventLog
from agent_runtime.rpc.error_interceptor import ErrorInterceptor
from agent_runtime.rpc.server_setup import bind, new_server
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.profiles import ProfileDirectory
from agent_runtime.storage.servicer import PersistenceAdapterServicer
from agent_runtime.storage.sqlite_store import SqliteStore


class AnswerLosingStorage(PersistenceAdapterServicer):
    """The real SQLite storage, but the answers of the first `lose` AppendEvents calls never arrive."""

    lose = 0

    async def AppendEvents(
        self, request: persistence_pb2.AppendEventsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> persistence_pb2.AppendEventsResponse:
        answer = await super().AppendEvents(request, context)
        if self.lose > 0:
            self.lose -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the connection dropped before the answer")
        return answer


@pytest.fixture
async def losing(tmp_path: Path) -> AsyncIterator[tuple[AnswerLosingStorage, StorageClient]]:
    store = SqliteStore(str(tmp_path / "events.db"))
    await store.open()
    servicer = AnswerLosingStorage(store, ProfileDirectory(tmp_path))
    server = new_server([ErrorInterceptor()])
    persistence_pb2_grpc.add_PersistenceAdapterServicer_to_server(servicer, server)
    address = bind(server, "127.0.0.1:0")
    await server.start()
    client = StorageClient(address)
    try:
        yield servicer, client
    finally:
        await client.close()
        await server.stop(None)
        await store.close()


async def test_a_batch_whose_answer_was_lost_is_stored_once(losing: tuple[AnswerLosingStorage, StorageClient]) -> None:
    servicer, storage = losing
    session_id = str(uuid.uuid4())
    record = persistence_pb2.SessionRecord(session_id=session_id, architecture="anthropic", agent_profile_ref="p")
    await storage.call(storage.stub.CreateSessionRecord, persistence_pb2.CreateSessionRecordRequest(session=record))
    log = EventLog(storage)
    subscription = await log.subscribe(session_id)
    servicer.lose = 2  # the answers of both batches are lost
    for batch in range(2):
        for n in range(5):
            status = events_pb2.StatusChange(message=f"event {batch}.{n}")
            log.append(events_pb2.SessionEvent(session_id=session_id, status=status))
        await log.flush(session_id)
    assert servicer.lose == 0

    stored = (await log.read(session_id, 0, 100)).events
    expected = [f"event {batch}.{n}" for batch in range(2) for n in range(5)]
    assert [e.status.message for e in stored] == expected, "each once, in order"
    assert [e.sequence for e in stored] == list(range(1, 11))
    delivered = [await subscription.next(1.0) for _ in range(10)]
    assert [(e.sequence, e.status.message) for e in delivered if e] == [(e.sequence, e.status.message) for e in stored]
