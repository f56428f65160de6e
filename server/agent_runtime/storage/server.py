"""A built-in storage server: the PersistenceAdapter service on SQLite (a file, or in memory) or PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

import grpc

from agent_runtime._gen.agentruntime.v1 import persistence_pb2, persistence_pb2_grpc
from agent_runtime.rpc.error_interceptor import ErrorInterceptor
from agent_runtime.rpc.server_setup import add_health_and_reflection, bind, new_server, set_serving
from agent_runtime.storage.postgres_store import PostgresStore
from agent_runtime.storage.profiles import ProfileDirectory
from agent_runtime.storage.servicer import PersistenceAdapterServicer
from agent_runtime.storage.sqlite_store import SqliteStore
from agent_runtime.storage.store import SessionStore, is_postgres

log = logging.getLogger(__name__)

SERVICE_NAME = persistence_pb2.DESCRIPTOR.services_by_name["PersistenceAdapter"].full_name
IN_MEMORY = ":memory:"


async def open_store(database: str) -> SessionStore:
    """The store for `database`: a PostgreSQL URL, a SQLite path, or ":memory:"."""
    store = PostgresStore(database) if is_postgres(database) else SqliteStore(database)
    await store.open()
    return store


@dataclass
class StorageServer:
    server: grpc.aio.Server
    store: SessionStore
    address: str

    async def stop(self, grace: float | None = None) -> None:
        await self.server.stop(grace)
        await self.store.close()


async def start_storage_server(database: str, profiles_dir: Path, address: str) -> StorageServer:
    """Serves `database` (a PostgreSQL URL, a SQLite path, or ":memory:") on `address` (host:port or unix:PATH)."""
    if address.startswith("unix:"):
        # A socket left by a killed server would refuse the bind.
        await asyncio.to_thread(Path(address.removeprefix("unix:")).unlink, missing_ok=True)
    store = await open_store(database)
    server = new_server([ErrorInterceptor()])
    persistence_pb2_grpc.add_PersistenceAdapterServicer_to_server(
        PersistenceAdapterServicer(store, ProfileDirectory(profiles_dir)), server
    )
    health = add_health_and_reflection(server, [SERVICE_NAME])
    try:
        bound = bind(server, address)
    except OSError:
        await store.close()
        raise
    await server.start()
    await set_serving(health, [SERVICE_NAME], True)
    shown = "memory" if database == IN_MEMORY else "postgres" if is_postgres(database) else database
    log.info("storage (%s) serving on %s", shown, bound)
    return StorageServer(server, store, bound)
