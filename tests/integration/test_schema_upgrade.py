"""A database written by the first schema opens under this build with its files listed by size and sha256."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import asyncpg

from agent_runtime.storage import postgres_schema, sqlite_store
from agent_runtime.storage.postgres_store import PostgresStore
from agent_runtime.storage.sqlite_store import SqliteStore
from agent_runtime.storage.store import SessionStore
from tests.support import postgres

SESSION = "4f6c1d2e-0000-4000-8000-000000000002"
CONTENT = b"written before files had a sha256\n"
# The first schema's rows, in SQL both databases take once "?" is numbered for PostgreSQL.
V1_ROWS = [
    ("INSERT INTO sessions (session_id, created_us, record) VALUES (?, 1, ?)", (SESSION, b"")),
    ("INSERT INTO files (session_id, path, content, modified_us) VALUES (?, 'old.txt', ?, 7)", (SESSION, CONTENT)),
]


def numbered(sql: str) -> str:
    parts = sql.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]


async def assert_old_file_is_listed_and_read(store: SessionStore) -> None:
    [listed] = await store.list_files(SESSION, 10, None)
    read = await store.get_file(SESSION, "old.txt")
    assert (listed.path, listed.size, listed.sha256) == ("old.txt", len(CONTENT), hashlib.sha256(CONTENT).hexdigest())
    assert (read.content, read.sha256, read.modified_time.ToMicroseconds()) == (CONTENT, listed.sha256, 7)


async def test_a_first_schema_sqlite_file_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(sqlite_store.MIGRATIONS[0] + "PRAGMA user_version = 1;")
        for sql, values in V1_ROWS:
            db.execute(sql, values)
    store = SqliteStore(str(path))
    await store.open()
    try:
        await assert_old_file_is_listed_and_read(store)
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_store.MIGRATIONS)


async def test_a_first_schema_postgres_database_is_upgraded() -> None:
    with postgres.fresh_database() as url:
        db = await asyncpg.connect(url)
        try:
            await db.execute(postgres_schema.MIGRATIONS[0])
            await db.execute(
                "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)"
            )
            for sql, values in V1_ROWS:
                await db.execute(numbered(sql), *values)
        finally:
            await db.close()
        store = PostgresStore(url)
        await store.open()
        try:
            await assert_old_file_is_listed_and_read(store)
        finally:
            await store.close()
