"""The PostgreSQL store itself: a connection that drops, or a server that stops, in the middle of an operation."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2
from agent_runtime.storage import leases
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


async def test_a_store_stopped_inside_a_write_holds_the_lease_row_only_for_moments() -> None:
    """A replica paused (SIGSTOP) in the middle of a fenced write, with its storage server inside it, holds the
    lock on the session's lease. The database ends that transaction within moments, so another replica takes
    the expired lease rather than waiting for the paused one for ever."""
    ttl = duration_pb2.Duration(nanos=300_000_000)
    with postgres.fresh_database() as url:
        paused, other = PostgresStore(url), PostgresStore(url)
        await paused.open()
        await other.open()
        try:
            await paused.create_session(
                persistence_pb2.SessionRecord(session_id=SESSION, created_at=timestamp_pb2.Timestamp(seconds=1)), []
            )
            await paused.change_lease(SESSION, leases.acquiring(SESSION, "r1", "r1:1", ttl))
            db = await paused._pool.acquire()  # type: ignore[union-attr]  # the only way to stop it mid-write
            try:
                await db.execute("BEGIN")
                await db.execute("SELECT generation FROM leases WHERE session_id = $1 FOR SHARE", SESSION)
                await asyncio.sleep(0.4)  # the lease expires; the paused write still holds its row
                taken, _ = await asyncio.wait_for(
                    other.change_lease(SESSION, leases.acquiring(SESSION, "r2", "r2:1", ttl)), 10
                )
                assert (taken.replica_id, taken.generation) == ("r2", 2)
                with pytest.raises((asyncpg.exceptions.PostgresError, asyncpg.exceptions.InterfaceError)):
                    await db.execute("SELECT 1")  # the database ended the paused transaction, and its connection
            finally:
                # Given back, or the pool's close() waits for it for ever: asyncpg takes back a connection the
                # database closed only when it notices, which it does not always do.
                with contextlib.suppress(asyncpg.exceptions.InterfaceError):  # it did: released already
                    db.terminate()
                    await paused._pool.release(db)  # type: ignore[union-attr]
        finally:
            await paused.close()
            await other.close()
