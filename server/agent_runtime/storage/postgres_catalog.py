"""CatalogStore on PostgreSQL: the PostgresStore's pool, retries and transactions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_runtime._gen.agentruntime.v1 import environment_pb2, profile_pb2
from agent_runtime.storage.catalog import (
    check_next_version,
    environment_exists,
    environment_not_found,
    profile_exists,
    profile_version_not_found,
)

if TYPE_CHECKING:
    from agent_runtime.storage.postgres_store import Connection, PostgresStore

# The sixth migration of postgres_schema.MIGRATIONS.
CATALOG_TABLES = """
    CREATE TABLE agent_profiles (
        profile_id TEXT PRIMARY KEY,
        latest_version INTEGER NOT NULL,
        archived_us BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE agent_profile_versions (
        profile_id TEXT NOT NULL REFERENCES agent_profiles ON DELETE CASCADE,
        version INTEGER NOT NULL,
        profile BYTEA NOT NULL,
        PRIMARY KEY (profile_id, version)
    );
    CREATE TABLE environments (
        environment_id TEXT PRIMARY KEY,
        created_us BIGINT NOT NULL,
        environment BYTEA NOT NULL
    );
    CREATE INDEX environments_newest_first ON environments (created_us DESC, environment_id DESC);
"""


async def _version_bytes(db: Connection, profile_id: str, version: int) -> bytes | None:
    body = await db.fetchval(
        "SELECT profile FROM agent_profile_versions WHERE profile_id = $1 AND version = $2", profile_id, version
    )
    return bytes(body) if body is not None else None


class PostgresCatalog:
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def save_profile_version(self, profile: profile_pb2.AgentProfile) -> None:
        body = profile.SerializeToString(deterministic=True)

        async def save(db: Connection) -> None:
            latest = (
                await db.fetchval(
                    "SELECT latest_version FROM agent_profiles WHERE profile_id = $1 FOR UPDATE", profile.id
                )
                or 0
            )
            same = bool(latest) and await _version_bytes(db, profile.id, latest) == body
            if not check_next_version(profile.id, profile.version, latest, same):
                return
            if latest:
                await db.execute(
                    "UPDATE agent_profiles SET latest_version = $2 WHERE profile_id = $1", profile.id, profile.version
                )
            else:
                inserted = await db.execute(
                    "INSERT INTO agent_profiles (profile_id, latest_version) VALUES ($1, $2)"
                    " ON CONFLICT (profile_id) DO NOTHING",
                    profile.id,
                    profile.version,
                )
                if inserted == "INSERT 0 0":  # created by another writer since the read above
                    raise profile_exists(profile.id)
            await db.execute(
                "INSERT INTO agent_profile_versions (profile_id, version, profile) VALUES ($1, $2, $3)",
                profile.id,
                profile.version,
                body,
            )

        await self._store.transaction(save)

    async def load_profile_version(self, profile_id: str, version: int) -> tuple[profile_pb2.AgentProfile, int] | None:
        async def load(db: Connection) -> tuple[profile_pb2.AgentProfile, int] | None:
            row = await db.fetchrow(
                "SELECT latest_version, archived_us FROM agent_profiles WHERE profile_id = $1", profile_id
            )
            if row is None:
                return None
            body = await _version_bytes(db, profile_id, version or row["latest_version"])
            if body is None:
                raise profile_version_not_found(profile_id, version)
            return profile_pb2.AgentProfile.FromString(body), row["archived_us"]

        return await self._store.transaction(load)

    async def profile_versions(
        self, profile_id: str, limit: int, before_version: int
    ) -> tuple[list[profile_pb2.AgentProfile], int] | None:
        async def query(db: Connection) -> tuple[list[profile_pb2.AgentProfile], int] | None:
            archived_us = await db.fetchval("SELECT archived_us FROM agent_profiles WHERE profile_id = $1", profile_id)
            if archived_us is None:
                return None
            rows = await db.fetch(
                "SELECT profile FROM agent_profile_versions WHERE profile_id = $1 AND ($2 = 0 OR version < $2)"
                " ORDER BY version DESC LIMIT $3",
                profile_id,
                before_version,
                limit,
            )
            return [profile_pb2.AgentProfile.FromString(row["profile"]) for row in rows], archived_us

        return await self._store.transaction(query)

    async def latest_profiles(self) -> list[tuple[profile_pb2.AgentProfile, int]]:
        async def query(db: Connection) -> list[tuple[profile_pb2.AgentProfile, int]]:
            rows = await db.fetch(
                "SELECT v.profile, p.archived_us FROM agent_profiles p JOIN agent_profile_versions v"
                ' ON v.profile_id = p.profile_id AND v.version = p.latest_version ORDER BY p.profile_id COLLATE "C"'
            )
            return [(profile_pb2.AgentProfile.FromString(row["profile"]), row["archived_us"]) for row in rows]

        return await self._store.transaction(query)

    async def archive_profile(self, profile_id: str, archived_us: int) -> bool:
        async def archive(db: Connection) -> bool:
            found = await db.fetchval("SELECT 1 FROM agent_profiles WHERE profile_id = $1 FOR UPDATE", profile_id)
            await db.execute(
                "UPDATE agent_profiles SET archived_us = $2 WHERE profile_id = $1 AND archived_us = 0",
                profile_id,
                archived_us,
            )
            return found is not None

        return await self._store.transaction(archive)

    async def create_environment(self, environment: environment_pb2.Environment) -> None:
        async def create(db: Connection) -> None:
            inserted = await db.execute(
                "INSERT INTO environments (environment_id, created_us, environment) VALUES ($1, $2, $3)"
                " ON CONFLICT (environment_id) DO NOTHING",
                environment.environment_id,
                environment.created_at.ToMicroseconds(),
                environment.SerializeToString(),
            )
            if inserted == "INSERT 0 0":
                raise environment_exists(environment.environment_id)

        await self._store.transaction(create)

    async def get_environment(self, environment_id: str) -> environment_pb2.Environment:
        async def get(db: Connection) -> environment_pb2.Environment:
            body = await db.fetchval("SELECT environment FROM environments WHERE environment_id = $1", environment_id)
            if body is None:
                raise environment_not_found(environment_id)
            return environment_pb2.Environment.FromString(body)

        return await self._store.transaction(get)

    async def replace_environment(self, environment: environment_pb2.Environment) -> None:
        async def replace(db: Connection) -> None:
            changed = await db.execute(
                "UPDATE environments SET environment = $2 WHERE environment_id = $1",
                environment.environment_id,
                environment.SerializeToString(),
            )
            if changed == "UPDATE 0":
                raise environment_not_found(environment.environment_id)

        await self._store.transaction(replace)

    async def list_environments(self) -> list[environment_pb2.Environment]:
        async def query(db: Connection) -> list[environment_pb2.Environment]:
            rows = await db.fetch(
                'SELECT environment FROM environments ORDER BY created_us DESC, environment_id COLLATE "C" DESC'
            )
            return [environment_pb2.Environment.FromString(row["environment"]) for row in rows]

        return await self._store.transaction(query)

    async def delete_environment(self, environment_id: str) -> bool:
        async def delete(db: Connection) -> bool:
            deleted = await db.execute("DELETE FROM environments WHERE environment_id = $1", environment_id)
            return bool(deleted != "DELETE 0")

        return await self._store.transaction(delete)
