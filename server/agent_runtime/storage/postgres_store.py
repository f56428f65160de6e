"""SessionStore on PostgreSQL (asyncpg): a connection pool, one transaction per operation, and the schema
brought to the newest version at open (postgres_schema).

Appends to a session's event log lock the session's row first, so concurrent writers are serialised and
the expected-sequence check holds. An operation whose connection drops is run again on another one; each
is one transaction, so a retry never half-applies anything, and an append whose commit did go through
before the drop is recognised as done rather than refused as a sequence mismatch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import asyncpg

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2, workspace_pb2
from agent_runtime.storage.leases import Lease, LeaseChange, check_fence
from agent_runtime.storage.postgres_catalog import PostgresCatalog
from agent_runtime.storage.postgres_schema import migrate
from agent_runtime.storage.store import (
    SessionCursor,
    check_event_sequences,
    content_sha256,
    created_micros,
    session_exists,
    session_not_found,
    stored_file,
    stored_file_not_found,
    within_page_bytes,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # generic only in the stubs
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]

T = TypeVar("T")
# A connection that broke is retried this many times, after these pauses (seconds).
RETRY_PAUSES = (0.1, 0.5, 2.0)
# A connection that broke, or a server that ended it (a restart, a failover, pg_terminate_backend): either
# shows on the next use of a pooled connection, as one of these.
DROPPED = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InterfaceError,
    # A pooled connection the server ended can also fail its next use with "another operation is in progress".
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
)


LEASE_COLUMNS = "replica_id, address, generation, expires_us, released"
# Every operation is one short transaction, never idle between its statements: one that is idle this long
# belongs to a storage server that stopped mid-operation (a replica paused with SIGSTOP, its storage server
# inside it), and the database ends it, so the rows it locked (a session's lease) are free for the others.
IDLE_TRANSACTION = "2s"


def _lease_of(row: asyncpg.Record) -> Lease:
    return Lease(row["replica_id"], row["address"], row["generation"], row["expires_us"], row["released"])


async def _now_us(db: Connection) -> int:
    """The database's clock, one for every storage server on it."""
    return int(await db.fetchval("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"))


class PostgresStore:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self.catalog = PostgresCatalog(self)

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn, min_size=1, max_size=8, server_settings={"idle_in_transaction_session_timeout": IDLE_TRANSACTION}
        )
        async with self._pool.acquire() as db:
            await migrate(db)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def transaction(self, operation: Callable[[Connection], Awaitable[T]]) -> T:
        assert self._pool is not None, "store is not open"
        for attempt, pause in enumerate((*RETRY_PAUSES, None)):
            try:
                async with self._pool.acquire() as db, db.transaction():
                    return await operation(db)
            except DROPPED as error:
                if pause is None:
                    raise
                log.warning("the database connection dropped (%s); trying again (%d)", error, attempt + 1)
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    @staticmethod
    async def _record(db: Connection, session_id: str, lock: bool = False) -> persistence_pb2.SessionRecord:
        query = "SELECT record FROM sessions WHERE session_id = $1" + (" FOR UPDATE" if lock else "")
        row = await db.fetchrow(query, session_id)
        if row is None:
            raise session_not_found(session_id)
        return persistence_pb2.SessionRecord.FromString(row["record"])

    async def _writable(
        self, db: Connection, session_id: str, fence: int, lock: bool = False
    ) -> persistence_pb2.SessionRecord:
        """The session's record, once the write's fence is the session's lease generation. The lease row is
        share-locked until the write commits, so an acquisition (which locks it to update) waits for the
        write, or the write sees the new generation."""
        record = await self._record(db, session_id, lock)
        if fence:
            generation = await db.fetchval("SELECT generation FROM leases WHERE session_id = $1 FOR SHARE", session_id)
            check_fence(session_id, generation or 0, fence)
        return record

    async def change_lease(self, session_id: str, change: LeaseChange) -> tuple[Lease, int]:
        async def run(db: Connection) -> tuple[Lease, int]:
            await self._record(db, session_id)
            # A row for a session never leased, so that two first acquisitions queue on its lock.
            await db.execute(
                "INSERT INTO leases (session_id, replica_id, address, generation, expires_us)"
                " VALUES ($1, '', '', 0, 0) ON CONFLICT (session_id) DO NOTHING",
                session_id,
            )
            row = await db.fetchrow(f"SELECT {LEASE_COLUMNS} FROM leases WHERE session_id = $1 FOR UPDATE", session_id)
            assert row is not None
            current = _lease_of(row)
            now_us = await _now_us(db)
            changed = change(current, now_us)
            if changed != current:
                await db.execute(
                    "UPDATE leases SET replica_id = $2, address = $3, generation = $4, expires_us = $5, released = $6"
                    " WHERE session_id = $1",
                    session_id,
                    *dataclasses.astuple(changed),  # the columns in the Lease's order
                )
            return changed, now_us

        return await self.transaction(run)

    async def lapsed_leases(self, limit: int, after_session_id: str) -> tuple[list[tuple[str, Lease]], int]:
        async def query(db: Connection) -> tuple[list[tuple[str, Lease]], int]:
            now_us = await _now_us(db)
            rows = await db.fetch(
                f"SELECT session_id, {LEASE_COLUMNS} FROM leases"
                ' WHERE NOT released AND generation > 0 AND expires_us <= $1 AND session_id COLLATE "C" > $2'
                ' ORDER BY session_id COLLATE "C" LIMIT $3',
                now_us,
                after_session_id,
                limit,
            )
            return [(row["session_id"], _lease_of(row)) for row in rows], now_us

        return await self.transaction(query)

    async def get_lease(self, session_id: str) -> tuple[Lease, int]:
        async def read(db: Connection) -> tuple[Lease, int]:
            await self._record(db, session_id)
            row = await db.fetchrow(f"SELECT {LEASE_COLUMNS} FROM leases WHERE session_id = $1", session_id)
            return (_lease_of(row) if row else Lease()), await _now_us(db)

        return await self.transaction(read)

    async def list_sessions(self, limit: int, after: SessionCursor | None) -> list[persistence_pb2.SessionRecord]:
        async def query(db: Connection) -> list[persistence_pb2.SessionRecord]:
            if after is None:
                rows = await db.fetch(
                    "SELECT record FROM sessions ORDER BY created_us DESC, session_id DESC LIMIT $1", limit
                )
            else:
                rows = await db.fetch(
                    "SELECT record FROM sessions WHERE (created_us, session_id) < ($1, $2)"
                    " ORDER BY created_us DESC, session_id DESC LIMIT $3",
                    after.created_us,
                    after.session_id,
                    limit,
                )
            return [persistence_pb2.SessionRecord.FromString(row["record"]) for row in rows]

        return await self.transaction(query)

    async def get_session(self, session_id: str) -> persistence_pb2.SessionRecord:
        return await self.transaction(lambda db: self._record(db, session_id))

    async def load_session(self, session_id: str) -> persistence_pb2.LoadSessionResponse:
        async def load(db: Connection) -> persistence_pb2.LoadSessionResponse:
            loaded = persistence_pb2.LoadSessionResponse(session=await self._record(db, session_id))
            for row in await db.fetch(
                "SELECT subagent_id, content FROM transcripts WHERE session_id = $1 ORDER BY subagent_id", session_id
            ):
                if row["subagent_id"]:
                    loaded.subagents.add(subagent_id=row["subagent_id"], raw_transcript=row["content"])
                else:
                    loaded.raw_transcript = row["content"]
            return loaded

        return await self.transaction(load)

    async def list_files(
        self, session_id: str, limit: int, after_path: str | None
    ) -> list[workspace_pb2.WorkspaceFile]:
        async def query(db: Connection) -> list[workspace_pb2.WorkspaceFile]:
            await self._record(db, session_id)
            rows = await db.fetch(
                'SELECT path, size, modified_us, sha256 FROM files WHERE session_id = $1 AND path COLLATE "C" > $2'
                ' ORDER BY path COLLATE "C" LIMIT $3',
                session_id,
                after_path or "",
                limit,
            )
            return [stored_file(row["path"], None, row["size"], row["modified_us"], row["sha256"]) for row in rows]

        return await self.transaction(query)

    async def get_file(self, session_id: str, path: str) -> workspace_pb2.WorkspaceFile:
        async def query(db: Connection) -> workspace_pb2.WorkspaceFile:
            await self._record(db, session_id)
            row = await db.fetchrow(
                "SELECT content, size, modified_us, sha256 FROM files WHERE session_id = $1 AND path = $2",
                session_id,
                path,
            )
            if row is None:
                raise stored_file_not_found(session_id, path)
            return stored_file(path, row["content"], row["size"], row["modified_us"], row["sha256"])

        return await self.transaction(query)

    async def create_session(
        self, record: persistence_pb2.SessionRecord, files: Sequence[workspace_pb2.WorkspaceFile]
    ) -> None:
        async def create(db: Connection) -> None:
            inserted = await db.execute(
                "INSERT INTO sessions (session_id, created_us, record) VALUES ($1, $2, $3)"
                " ON CONFLICT (session_id) DO NOTHING",
                record.session_id,
                created_micros(record),
                record.SerializeToString(),
            )
            if inserted == "INSERT 0 0":
                raise session_exists(record.session_id)
            for file in files:
                await self._upsert_file(db, record.session_id, file)

        await self.transaction(create)

    async def update_session(
        self, session_id: str, change: Callable[[persistence_pb2.SessionRecord], None], fence: int
    ) -> persistence_pb2.SessionRecord:
        async def update(db: Connection) -> persistence_pb2.SessionRecord:
            record = await self._writable(db, session_id, fence, lock=True)
            change(record)
            await db.execute(
                "UPDATE sessions SET record = $1 WHERE session_id = $2", record.SerializeToString(), session_id
            )
            return record

        return await self.transaction(update)

    async def save_transcript(self, session_id: str, subagent_id: str, raw_transcript: str, fence: int) -> None:
        async def save(db: Connection) -> None:
            await self._writable(db, session_id, fence)
            await db.execute(
                "INSERT INTO transcripts (session_id, subagent_id, content) VALUES ($1, $2, $3)"
                " ON CONFLICT (session_id, subagent_id) DO UPDATE SET content = excluded.content",
                session_id,
                subagent_id,
                raw_transcript,
            )

        await self.transaction(save)

    @staticmethod
    async def _upsert_file(
        db: Connection, session_id: str, file: workspace_pb2.WorkspaceFile
    ) -> workspace_pb2.WorkspaceFile:
        modified_us = file.modified_time.ToMicroseconds() if file.HasField("modified_time") else time.time_ns() // 1000
        stored = stored_file(file.path, None, len(file.content), modified_us, content_sha256(file.content))
        await db.execute(
            "INSERT INTO files (session_id, path, content, modified_us, size, sha256) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (session_id, path) DO UPDATE SET content = excluded.content,"
            " modified_us = excluded.modified_us, size = excluded.size, sha256 = excluded.sha256",
            session_id,
            file.path,
            file.content,
            modified_us,
            stored.size,
            stored.sha256,
        )
        return stored

    async def save_file(
        self, session_id: str, file: workspace_pb2.WorkspaceFile, fence: int
    ) -> workspace_pb2.WorkspaceFile:
        async def save(db: Connection) -> workspace_pb2.WorkspaceFile:
            await self._writable(db, session_id, fence)
            return await self._upsert_file(db, session_id, file)

        return await self.transaction(save)

    async def delete_file(self, session_id: str, path: str, fence: int) -> bool:
        async def delete(db: Connection) -> bool:
            await self._writable(db, session_id, fence)
            deleted = await db.execute("DELETE FROM files WHERE session_id = $1 AND path = $2", session_id, path)
            return bool(deleted != "DELETE 0")

        return await self.transaction(delete)

    async def change_files(
        self, session_id: str, saved: Sequence[workspace_pb2.WorkspaceFile], deleted: Sequence[str], fence: int
    ) -> list[workspace_pb2.WorkspaceFile]:
        async def change(db: Connection) -> list[workspace_pb2.WorkspaceFile]:
            await self._writable(db, session_id, fence)
            stored = [await self._upsert_file(db, session_id, file) for file in saved]
            await db.execute("DELETE FROM files WHERE session_id = $1 AND path = ANY($2::text[])", session_id, deleted)
            return stored

        return await self.transaction(change)

    @staticmethod
    async def _last_sequence(db: Connection, session_id: str) -> int:
        return int(await db.fetchval("SELECT COALESCE(MAX(sequence), 0) FROM events WHERE session_id = $1", session_id))

    async def append_events(
        self, session_id: str, expected_last_sequence: int, events: Sequence[events_pb2.SessionEvent], fence: int
    ) -> int:
        serialized = [event.SerializeToString() for event in events]

        async def append(db: Connection) -> int:
            await self._writable(db, session_id, fence, lock=True)  # one writer of this session's log at a time
            last = await self._last_sequence(db, session_id)
            if await self._already_appended(db, session_id, expected_last_sequence, last, serialized):
                return last
            check_event_sequences(session_id, expected_last_sequence, last, events)
            await db.executemany(
                "INSERT INTO events (session_id, sequence, event) VALUES ($1, $2, $3)",
                [(session_id, event.sequence, data) for event, data in zip(events, serialized, strict=True)],
            )
            return last + len(events)

        return await self.transaction(append)

    @staticmethod
    async def _already_appended(
        db: Connection, session_id: str, expected_last_sequence: int, last: int, serialized: list[bytes]
    ) -> bool:
        """Whether exactly these events already follow the expected sequence: an append retried after its
        commit went through but the connection dropped before the answer came back."""
        if not serialized or last != expected_last_sequence + len(serialized):
            return False
        stored = await db.fetch(
            "SELECT event FROM events WHERE session_id = $1 AND sequence > $2 ORDER BY sequence",
            session_id,
            expected_last_sequence,
        )
        return [bytes(row["event"]) for row in stored] == serialized

    async def read_events(
        self, session_id: str, after_sequence: int, limit: int
    ) -> tuple[list[events_pb2.SessionEvent], int]:
        async def read(db: Connection) -> tuple[list[events_pb2.SessionEvent], int]:
            await self._record(db, session_id)
            sizes = await db.fetch(
                "SELECT octet_length(event) FROM events WHERE session_id = $1 AND sequence > $2"
                " ORDER BY sequence LIMIT $3",
                session_id,
                after_sequence,
                limit,
            )
            rows = await db.fetch(
                "SELECT event FROM events WHERE session_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
                session_id,
                after_sequence,
                within_page_bytes([row[0] for row in sizes]),
            )
            return [events_pb2.SessionEvent.FromString(row["event"]) for row in rows], await self._last_sequence(
                db, session_id
            )

        return await self.transaction(read)

    async def delete_session(self, session_id: str) -> None:
        async def delete(db: Connection) -> None:
            if await db.execute("DELETE FROM sessions WHERE session_id = $1", session_id) == "DELETE 0":
                raise session_not_found(session_id)

        await self.transaction(delete)
