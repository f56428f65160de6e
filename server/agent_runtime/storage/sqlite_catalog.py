"""CatalogStore on SQLite: the SqliteStore's connection, worker thread and transactions."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from agent_runtime._gen.agentruntime.v1 import environment_pb2, profile_pb2
from agent_runtime.storage.catalog import (
    check_next_version,
    environment_exists,
    environment_not_found,
    profile_version_not_found,
)

if TYPE_CHECKING:
    from agent_runtime.storage.sqlite_store import SqliteStore

# The fifth migration of sqlite_store.MIGRATIONS.
CATALOG_TABLES = """
    CREATE TABLE agent_profiles (
        profile_id TEXT PRIMARY KEY,
        latest_version INTEGER NOT NULL,
        archived_us INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE agent_profile_versions (
        profile_id TEXT NOT NULL REFERENCES agent_profiles ON DELETE CASCADE,
        version INTEGER NOT NULL,
        profile BLOB NOT NULL,
        PRIMARY KEY (profile_id, version)
    );
    CREATE TABLE environments (
        environment_id TEXT PRIMARY KEY,
        created_us INTEGER NOT NULL,
        environment BLOB NOT NULL
    );
    CREATE INDEX environments_newest_first ON environments (created_us DESC, environment_id DESC);
"""


def _version_bytes(db: sqlite3.Connection, profile_id: str, version: int) -> bytes | None:
    row = db.execute(
        "SELECT profile FROM agent_profile_versions WHERE profile_id = ? AND version = ?", (profile_id, version)
    ).fetchone()
    return bytes(row[0]) if row else None


class SqliteCatalog:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def save_profile_version(self, profile: profile_pb2.AgentProfile) -> None:
        body = profile.SerializeToString(deterministic=True)

        def save(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT latest_version FROM agent_profiles WHERE profile_id = ?", (profile.id,)).fetchone()
            latest = row[0] if row else 0
            same = bool(latest) and _version_bytes(db, profile.id, latest) == body
            if not check_next_version(profile.id, profile.version, latest, same):
                return
            db.execute(
                "INSERT INTO agent_profiles (profile_id, latest_version) VALUES (?, ?)"
                " ON CONFLICT (profile_id) DO UPDATE SET latest_version = excluded.latest_version",
                (profile.id, profile.version),
            )
            db.execute(
                "INSERT INTO agent_profile_versions (profile_id, version, profile) VALUES (?, ?, ?)",
                (profile.id, profile.version, body),
            )

        await self._store.transaction(save)

    async def load_profile_version(self, profile_id: str, version: int) -> tuple[profile_pb2.AgentProfile, int] | None:
        def load(db: sqlite3.Connection) -> tuple[profile_pb2.AgentProfile, int] | None:
            row = db.execute(
                "SELECT latest_version, archived_us FROM agent_profiles WHERE profile_id = ?", (profile_id,)
            ).fetchone()
            if row is None:
                return None
            body = _version_bytes(db, profile_id, version or row[0])
            if body is None:
                raise profile_version_not_found(profile_id, version)
            return profile_pb2.AgentProfile.FromString(body), row[1]

        return await self._store.transaction(load)

    async def profile_versions(
        self, profile_id: str, limit: int, before_version: int
    ) -> tuple[list[profile_pb2.AgentProfile], int] | None:
        def query(db: sqlite3.Connection) -> tuple[list[profile_pb2.AgentProfile], int] | None:
            row = db.execute("SELECT archived_us FROM agent_profiles WHERE profile_id = ?", (profile_id,)).fetchone()
            if row is None:
                return None
            rows = db.execute(
                "SELECT profile FROM agent_profile_versions WHERE profile_id = ? AND (? = 0 OR version < ?)"
                " ORDER BY version DESC LIMIT ?",
                (profile_id, before_version, before_version, limit),
            )
            return [profile_pb2.AgentProfile.FromString(r[0]) for r in rows], row[0]

        return await self._store.transaction(query)

    async def latest_profiles(self) -> list[tuple[profile_pb2.AgentProfile, int]]:
        def query(db: sqlite3.Connection) -> list[tuple[profile_pb2.AgentProfile, int]]:
            rows = db.execute(
                "SELECT v.profile, p.archived_us FROM agent_profiles p JOIN agent_profile_versions v"
                " ON v.profile_id = p.profile_id AND v.version = p.latest_version ORDER BY p.profile_id"
            )
            return [(profile_pb2.AgentProfile.FromString(body), archived_us) for body, archived_us in rows]

        return await self._store.transaction(query)

    async def archive_profile(self, profile_id: str, archived_us: int) -> bool:
        def archive(db: sqlite3.Connection) -> bool:
            found = db.execute("SELECT 1 FROM agent_profiles WHERE profile_id = ?", (profile_id,)).fetchone()
            db.execute(
                "UPDATE agent_profiles SET archived_us = ? WHERE profile_id = ? AND archived_us = 0",
                (archived_us, profile_id),
            )
            return found is not None

        return await self._store.transaction(archive)

    async def create_environment(self, environment: environment_pb2.Environment) -> None:
        def create(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO environments (environment_id, created_us, environment) VALUES (?, ?, ?)",
                    (
                        environment.environment_id,
                        environment.created_at.ToMicroseconds(),
                        environment.SerializeToString(),
                    ),
                )
            except sqlite3.IntegrityError as error:
                raise environment_exists(environment.environment_id) from error

        await self._store.transaction(create)

    async def get_environment(self, environment_id: str) -> environment_pb2.Environment:
        def get(db: sqlite3.Connection) -> environment_pb2.Environment:
            row = db.execute(
                "SELECT environment FROM environments WHERE environment_id = ?", (environment_id,)
            ).fetchone()
            if row is None:
                raise environment_not_found(environment_id)
            return environment_pb2.Environment.FromString(row[0])

        return await self._store.transaction(get)

    async def replace_environment(self, environment: environment_pb2.Environment) -> None:
        def replace(db: sqlite3.Connection) -> None:
            changed = db.execute(
                "UPDATE environments SET environment = ? WHERE environment_id = ?",
                (environment.SerializeToString(), environment.environment_id),
            )
            if changed.rowcount == 0:
                raise environment_not_found(environment.environment_id)

        await self._store.transaction(replace)

    async def list_environments(self) -> list[environment_pb2.Environment]:
        def query(db: sqlite3.Connection) -> list[environment_pb2.Environment]:
            rows = db.execute("SELECT environment FROM environments ORDER BY created_us DESC, environment_id DESC")
            return [environment_pb2.Environment.FromString(row[0]) for row in rows]

        return await self._store.transaction(query)

    async def delete_environment(self, environment_id: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            return db.execute("DELETE FROM environments WHERE environment_id = ?", (environment_id,)).rowcount > 0

        return await self._store.transaction(delete)
