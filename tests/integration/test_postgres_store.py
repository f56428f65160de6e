"""The PostgreSQL store itself: a connection that drops in the middle of an operation."""

from __future__ import annotations

import asyncio

import asyncpg
from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2
from agent_runtime.storage.postgres_store import PostgresStore
from tests.support import postgres

SESSION = "4f6c1d2e-0000-4000-8000-000000000001"


async def backend_waiting_for_a_lock(admin: asyncpg.Connection, database: str) -> int:
    for _ in range(200):
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", database
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the append never waited for the session's lock")


async def test_an_append_whose_connection_drops_mid_operation_is_retried() -> None:
    with postgres.fresh_database() as url:
        store = PostgresStore(url)
        await store.open()
        admin = await asyncpg.connect(url)
        try:
            await store.create_session(
                persistence_pb2.SessionRecord(session_id=SESSION, created_at=timestamp_pb2.Timestamp(seconds=1)), []
            )
            async with admin.transaction():  # holds the session's row, so the append waits inside its transaction
                await admin.execute("SELECT 1 FROM sessions WHERE session_id = $1 FOR UPDATE", SESSION)
                event = events_pb2.SessionEvent(session_id=SESSION, sequence=1)
                append = asyncio.create_task(store.append_events(SESSION, 0, [event], 0))
                waiting = await backend_waiting_for_a_lock(admin, url.rsplit("/", 1)[-1])
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", waiting)
            assert await append == 1, "retried on another connection once the lock was free"
            stored, last = await store.read_events(SESSION, 0, 10)
        finally:
            await admin.close()
            await store.close()
    assert ([e.sequence for e in stored], last) == ([1], 1)
