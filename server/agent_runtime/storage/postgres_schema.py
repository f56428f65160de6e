"""The PostgreSQL schema as numbered migrations, applied in order at open, each in its own transaction.

A database already at a newer version than this build knows is refused rather than touched. An advisory
lock lets several storage servers start against one database at once: one migrates, the others wait.
"""

from __future__ import annotations

import asyncpg

from agent_runtime.storage.postgres_catalog import CATALOG_TABLES

# Append only: a migration that has shipped is never edited, a change is a new one.
MIGRATIONS = (
    """
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        created_us BIGINT NOT NULL,
        record BYTEA NOT NULL
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
        content BYTEA NOT NULL,
        modified_us BIGINT NOT NULL,
        PRIMARY KEY (session_id, path)
    );
    CREATE TABLE events (
        session_id TEXT NOT NULL REFERENCES sessions ON DELETE CASCADE,
        sequence BIGINT NOT NULL,
        event BYTEA NOT NULL,
        PRIMARY KEY (session_id, sequence)
    );
    """,
    # Files are listed without reading their content, in the order of their paths' UTF-8 bytes.
    """
    ALTER TABLE files ADD COLUMN size BIGINT NOT NULL DEFAULT 0, ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
    UPDATE files SET size = octet_length(content), sha256 = encode(sha256(content), 'hex');
    CREATE INDEX files_by_path_bytes ON files (session_id, path COLLATE "C");
    """,
    # A session's lease: who works for it, until when, and the generation its writes are fenced with.
    """
    CREATE TABLE leases (
        session_id TEXT PRIMARY KEY REFERENCES sessions ON DELETE CASCADE,
        replica_id TEXT NOT NULL,
        address TEXT NOT NULL,
        generation BIGINT NOT NULL,
        expires_us BIGINT NOT NULL
    );
    """,
    # Whether a lease was released or left to expire: the lapsed ones are listed for another replica to take.
    """
    ALTER TABLE leases ADD COLUMN released BOOLEAN NOT NULL DEFAULT false;
    CREATE INDEX leases_unreleased ON leases (expires_us) WHERE NOT released;
    """,
    # Stored agent profiles, every version, and environments.
    CATALOG_TABLES,
)
MIGRATION_LOCK = 0x61676E74  # "agnt": the advisory lock the migrating server holds


async def migrate(db: asyncpg.pool.PoolConnectionProxy[asyncpg.Record]) -> int:
    """Brings the database to the newest schema; returns its version."""
    await db.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = await db.fetchval("SELECT max(version) FROM schema_version") or 0
        if version > len(MIGRATIONS):
            raise RuntimeError(f"the database has schema version {version}; this build knows {len(MIGRATIONS)}")
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            async with db.transaction():
                await db.execute(migration)
                await db.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
        return len(MIGRATIONS)
    finally:
        await db.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
