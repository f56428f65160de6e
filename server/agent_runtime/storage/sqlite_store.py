"""SessionStore on SQLite: one file (or ":memory:"), one connection, one worker thread.

Every operation runs as a single function on the worker thread, inside one transaction, so operations
never interleave and nothing blocks the event loop. WAL with synchronous=FULL: a committed write
survives a crash of the process or the machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2, workspace_pb2
from agent_runtime.storage.leases import Lease, LeaseChange, check_fence
from agent_runtime.storage.sqlite_catalog import CATALOG_TABLES, SqliteCatalog
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

T = TypeVar("T")

# Append only: a migration that has shipped is never edited, a change is a new one. The schema's version
# is the number of migrations applied (PRAGMA user_version).
MIGRATIONS = (
    """
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        created_us INTEGER NOT NULL,
        record BLOB NOT NULL
    );
    CREATE INDEX sessions_newest_first ON sessions (created_us DESC, session_id DESC);
    CREATE TABLE transcripts (
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        subagent_id TEXT NOT NULL,
        content TEXT NOT NULL,
        PRIMARY KEY (session_id, subagent_id)
    );
    CREATE TABLE files (
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        path TEXT NOT NULL,
        content BLOB NOT NULL,
        modified_us INTEGER NOT NULL,
        PRIMARY KEY (session_id, path)
    );
    CREATE TABLE events (
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        sequence INTEGER NOT NULL,
        event BLOB NOT NULL,
        PRIMARY KEY (session_id, sequence)
    );
    """,
    # Files are listed without reading their content.
    """
    ALTER TABLE files ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
    UPDATE files SET size = length(content), sha256 = sha256_hex(content);
    """,
    # A session's lease: who works for it, until when, and the generation its writes are fenced with.
    """
    CREATE TABLE leases (
        session_id TEXT PRIMARY KEY REFERENCES sessions ON DELETE CASCADE,
        replica_id TEXT NOT NULL,
        address TEXT NOT NULL,
        generation INTEGER NOT NULL,
        expires_us INTEGER NOT NULL
    );
    """,
    # Whether a lease was released or left to expire: the lapsed ones are listed for another replica to take.
    """
    ALTER TABLE leases ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX leases_unreleased ON leases (expires_us) WHERE released = 0;
    """,
    # Stored agent profiles, every version, and environments.
    CATALOG_TABLES,
)


def _lease_of(row: Sequence[Any]) -> Lease:
    """A lease from its columns: replica_id, address, generation, expires_us, released."""
    replica_id, address, generation, expires_us, released = row
    return Lease(replica_id, address, generation, expires_us, bool(released))


class SqliteStore:
    def __init__(self, path: str) -> None:
        self._path = path
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._db: sqlite3.Connection | None = None
        self.catalog = SqliteCatalog(self)

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA foreign_keys = ON")
        if self._path != ":memory:":
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
        db.create_function("sha256_hex", 1, content_sha256, deterministic=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(f"{self._path} has schema version {version}; this build knows {len(MIGRATIONS)}")
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            db.executescript(f"BEGIN; {migration} PRAGMA user_version = {number}; COMMIT;")
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._worker.shutdown(wait=True)

    async def _run(self, operation: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, operation)

    async def transaction(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            assert self._db is not None, "store is not open"
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = operation(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

        return await self._run(run)

    @staticmethod
    def _record(db: sqlite3.Connection, session_id: str) -> persistence_pb2.SessionRecord:
        row = db.execute("SELECT record FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            raise session_not_found(session_id)
        return persistence_pb2.SessionRecord.FromString(row[0])

    @staticmethod
    def _lease(db: sqlite3.Connection, session_id: str) -> Lease:
        row = db.execute(
            "SELECT replica_id, address, generation, expires_us, released FROM leases WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        return _lease_of(row) if row else Lease()

    def _writable(self, db: sqlite3.Connection, session_id: str, fence: int) -> persistence_pb2.SessionRecord:
        """The session's record, once the write's fence is the session's lease generation."""
        record = self._record(db, session_id)
        if fence:
            check_fence(session_id, self._lease(db, session_id).generation, fence)
        return record

    async def get_lease(self, session_id: str) -> tuple[Lease, int]:
        def read(db: sqlite3.Connection) -> tuple[Lease, int]:
            self._record(db, session_id)
            return self._lease(db, session_id), time.time_ns() // 1000

        return await self.transaction(read)

    async def change_lease(self, session_id: str, change: LeaseChange) -> tuple[Lease, int]:
        def run(db: sqlite3.Connection) -> tuple[Lease, int]:
            self._record(db, session_id)
            now_us = time.time_ns() // 1000
            current = self._lease(db, session_id)
            changed = change(current, now_us)
            if changed != current:
                db.execute(
                    "INSERT INTO leases (session_id, replica_id, address, generation, expires_us, released)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
                    " replica_id = excluded.replica_id, address = excluded.address, generation = excluded.generation,"
                    " expires_us = excluded.expires_us, released = excluded.released",
                    (session_id, *dataclasses.astuple(changed)),  # the columns in the Lease's order
                )
            return changed, now_us

        return await self.transaction(run)

    async def lapsed_leases(self, limit: int, after_session_id: str) -> tuple[list[tuple[str, Lease]], int]:
        def query(db: sqlite3.Connection) -> tuple[list[tuple[str, Lease]], int]:
            now_us = time.time_ns() // 1000
            rows = db.execute(
                "SELECT session_id, replica_id, address, generation, expires_us, released FROM leases"
                " WHERE released = 0 AND generation > 0 AND expires_us <= ? AND session_id > ?"
                " ORDER BY session_id LIMIT ?",
                (now_us, after_session_id, limit),
            )
            return [(row[0], _lease_of(row[1:])) for row in rows], now_us

        return await self.transaction(query)

    async def list_sessions(self, limit: int, after: SessionCursor | None) -> list[persistence_pb2.SessionRecord]:
        def query(db: sqlite3.Connection) -> list[persistence_pb2.SessionRecord]:
            if after is None:
                rows = db.execute(
                    "SELECT record FROM sessions ORDER BY created_us DESC, session_id DESC LIMIT ?", (limit,)
                )
            else:
                rows = db.execute(
                    "SELECT record FROM sessions WHERE (created_us, session_id) < (?, ?)"
                    " ORDER BY created_us DESC, session_id DESC LIMIT ?",
                    (after.created_us, after.session_id, limit),
                )
            return [persistence_pb2.SessionRecord.FromString(row[0]) for row in rows]

        return await self.transaction(query)

    async def get_session(self, session_id: str) -> persistence_pb2.SessionRecord:
        return await self.transaction(lambda db: self._record(db, session_id))

    async def load_session(self, session_id: str) -> persistence_pb2.LoadSessionResponse:
        def load(db: sqlite3.Connection) -> persistence_pb2.LoadSessionResponse:
            loaded = persistence_pb2.LoadSessionResponse(session=self._record(db, session_id))
            for subagent_id, content in db.execute(
                "SELECT subagent_id, content FROM transcripts WHERE session_id = ? ORDER BY subagent_id",
                (session_id,),
            ):
                if subagent_id:
                    loaded.subagents.add(subagent_id=subagent_id, raw_transcript=content)
                else:
                    loaded.raw_transcript = content
            return loaded

        return await self.transaction(load)

    async def list_files(
        self, session_id: str, limit: int, after_path: str | None
    ) -> list[workspace_pb2.WorkspaceFile]:
        def query(db: sqlite3.Connection) -> list[workspace_pb2.WorkspaceFile]:
            self._record(db, session_id)
            # TEXT compares by its UTF-8 bytes: the order every store lists in.
            rows = db.execute(
                "SELECT path, size, modified_us, sha256 FROM files WHERE session_id = ? AND path > ?"
                " ORDER BY path LIMIT ?",
                (session_id, after_path or "", limit),
            )
            return [stored_file(path, None, size, modified_us, sha256) for path, size, modified_us, sha256 in rows]

        return await self.transaction(query)

    async def get_file(self, session_id: str, path: str) -> workspace_pb2.WorkspaceFile:
        def query(db: sqlite3.Connection) -> workspace_pb2.WorkspaceFile:
            self._record(db, session_id)
            row = db.execute(
                "SELECT content, size, modified_us, sha256 FROM files WHERE session_id = ? AND path = ?",
                (session_id, path),
            ).fetchone()
            if row is None:
                raise stored_file_not_found(session_id, path)
            return stored_file(path, *row)

        return await self.transaction(query)

    async def create_session(
        self, record: persistence_pb2.SessionRecord, files: Sequence[workspace_pb2.WorkspaceFile]
    ) -> None:
        def create(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO sessions (session_id, created_us, record) VALUES (?, ?, ?)",
                    (record.session_id, created_micros(record), record.SerializeToString()),
                )
            except sqlite3.IntegrityError:
                raise session_exists(record.session_id) from None
            for file in files:
                self._upsert_file(db, record.session_id, file)

        await self.transaction(create)

    async def update_session(
        self, session_id: str, change: Callable[[persistence_pb2.SessionRecord], None], fence: int
    ) -> persistence_pb2.SessionRecord:
        def update(db: sqlite3.Connection) -> persistence_pb2.SessionRecord:
            record = self._writable(db, session_id, fence)
            change(record)
            db.execute("UPDATE sessions SET record = ? WHERE session_id = ?", (record.SerializeToString(), session_id))
            return record

        return await self.transaction(update)

    async def save_transcript(self, session_id: str, subagent_id: str, raw_transcript: str, fence: int) -> None:
        def save(db: sqlite3.Connection) -> None:
            self._writable(db, session_id, fence)
            db.execute(
                "INSERT INTO transcripts (session_id, subagent_id, content) VALUES (?, ?, ?)"
                " ON CONFLICT (session_id, subagent_id) DO UPDATE SET content = excluded.content",
                (session_id, subagent_id, raw_transcript),
            )

        await self.transaction(save)

    @staticmethod
    def _upsert_file(
        db: sqlite3.Connection, session_id: str, file: workspace_pb2.WorkspaceFile
    ) -> workspace_pb2.WorkspaceFile:
        modified_us = file.modified_time.ToMicroseconds() if file.HasField("modified_time") else time.time_ns() // 1000
        stored = stored_file(file.path, None, len(file.content), modified_us, content_sha256(file.content))
        db.execute(
            "INSERT INTO files (session_id, path, content, modified_us, size, sha256) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (session_id, path) DO UPDATE SET content = excluded.content,"
            " modified_us = excluded.modified_us, size = excluded.size, sha256 = excluded.sha256",
            (session_id, file.path, file.content, modified_us, stored.size, stored.sha256),
        )
        return stored

    async def save_file(
        self, session_id: str, file: workspace_pb2.WorkspaceFile, fence: int
    ) -> workspace_pb2.WorkspaceFile:
        def save(db: sqlite3.Connection) -> workspace_pb2.WorkspaceFile:
            self._writable(db, session_id, fence)
            return self._upsert_file(db, session_id, file)

        return await self.transaction(save)

    async def delete_file(self, session_id: str, path: str, fence: int) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            self._writable(db, session_id, fence)
            cursor = db.execute("DELETE FROM files WHERE session_id = ? AND path = ?", (session_id, path))
            return cursor.rowcount > 0

        return await self.transaction(delete)

    async def change_files(
        self, session_id: str, saved: Sequence[workspace_pb2.WorkspaceFile], deleted: Sequence[str], fence: int
    ) -> list[workspace_pb2.WorkspaceFile]:
        def change(db: sqlite3.Connection) -> list[workspace_pb2.WorkspaceFile]:
            self._writable(db, session_id, fence)
            stored = [self._upsert_file(db, session_id, file) for file in saved]
            db.executemany(
                "DELETE FROM files WHERE session_id = ? AND path = ?", [(session_id, path) for path in deleted]
            )
            return stored

        return await self.transaction(change)

    @staticmethod
    def _last_sequence(db: sqlite3.Connection, session_id: str) -> int:
        row = db.execute("SELECT MAX(sequence) FROM events WHERE session_id = ?", (session_id,)).fetchone()
        return int(row[0] or 0)

    async def append_events(
        self, session_id: str, expected_last_sequence: int, events: Sequence[events_pb2.SessionEvent], fence: int
    ) -> int:
        def append(db: sqlite3.Connection) -> int:
            self._writable(db, session_id, fence)
            last = self._last_sequence(db, session_id)
            check_event_sequences(session_id, expected_last_sequence, last, events)
            db.executemany(
                "INSERT INTO events (session_id, sequence, event) VALUES (?, ?, ?)",
                [(session_id, e.sequence, e.SerializeToString()) for e in events],
            )
            return last + len(events)

        return await self.transaction(append)

    async def read_events(
        self, session_id: str, after_sequence: int, limit: int
    ) -> tuple[list[events_pb2.SessionEvent], int]:
        def read(db: sqlite3.Connection) -> tuple[list[events_pb2.SessionEvent], int]:
            self._record(db, session_id)
            sizes = db.execute(
                "SELECT length(event) FROM events WHERE session_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                (session_id, after_sequence, limit),
            )
            rows = db.execute(
                "SELECT event FROM events WHERE session_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                (session_id, after_sequence, within_page_bytes([size for (size,) in sizes])),
            )
            events = [events_pb2.SessionEvent.FromString(row[0]) for row in rows]
            return events, self._last_sequence(db, session_id)

        return await self.transaction(read)

    async def delete_session(self, session_id: str) -> None:
        def delete(db: sqlite3.Connection) -> None:
            if db.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,)).rowcount == 0:
                raise session_not_found(session_id)

        await self.transaction(delete)
