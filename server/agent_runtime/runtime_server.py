"""`agent-runtime serve`: the AgentRuntime gRPC server, with its embedded storage unless told otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

import grpc
from aiohttp import web

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, agent_runtime_pb2_grpc
from agent_runtime.api.servicer import AgentRuntimeServicer
from agent_runtime.api_key import resolve_api_key
from agent_runtime.bus.base import Bus
from agent_runtime.bus.local import LocalBus
from agent_runtime.bus.nats_bus import NatsBus
from agent_runtime.config import Settings
from agent_runtime.console_files import ConsoleFiles
from agent_runtime.events.log import EventLog
from agent_runtime.events.stream import EventStreams
from agent_runtime.fleet.forwarding import OwnerForwarder
from agent_runtime.fleet.lease_keeper import LeaseKeeper
from agent_runtime.fleet.listener import ReplicaListener
from agent_runtime.fleet.routing import SessionRouter
from agent_runtime.fleet.takeover import take_over_lapsed
from agent_runtime.http_cors import Cors
from agent_runtime.http_serving import listening, serve_app, shown
from agent_runtime.managed_agents.api import PREFIX as MANAGED_AGENTS
from agent_runtime.managed_agents.api import ManagedAgentsApi
from agent_runtime.modelproxy.proxy import ModelProxy
from agent_runtime.rest.gateway import RestGateway
from agent_runtime.rpc.auth_interceptor import ApiKeyInterceptor
from agent_runtime.rpc.error_interceptor import ErrorInterceptor
from agent_runtime.rpc.server_setup import add_health_and_reflection, bind, new_server, set_serving
from agent_runtime.sandboxes.providers import opened_provider
from agent_runtime.seed_wire.api import PREFIX as SEED_API
from agent_runtime.seed_wire.api import SeedWire
from agent_runtime.sessions.lifecycle import Timing
from agent_runtime.sessions.live_session import SessionServices
from agent_runtime.sessions.manager import SessionManager
from agent_runtime.sessions.model_access import ModelAccess
from agent_runtime.sessions.watch_hub import SessionWatchHub
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.retrying import until_stored
from agent_runtime.storage.server import IN_MEMORY, start_storage_server
from agent_runtime.storage.storage_process import StorageProcess
from agent_runtime.storage_health import follow_storage_health

log = logging.getLogger(__name__)

MAX_UNIX_SOCKET_PATH = 107  # sun_path holds 108 bytes with the terminating NUL
SERVICE = agent_runtime_pb2.DESCRIPTOR.services_by_name["AgentRuntime"]
SERVICE_NAME = SERVICE.full_name


@contextlib.asynccontextmanager
async def storage_address(settings: Settings) -> AsyncIterator[str]:
    """The address of the storage to use: an embedded server started here (a database's in a child process
    of its own), or the configured one."""
    if not settings.embedded_storage:
        yield settings.storage
        return
    database = {"memory": IN_MEMORY, "sqlite": str(settings.data_dir / "agent-runtime.db")}.get(
        settings.storage, settings.storage
    )
    socket_path = (settings.data_dir / "storage.sock").resolve()
    if len(str(socket_path).encode()) > MAX_UNIX_SOCKET_PATH:
        raise OSError(f"the data directory's path is too long for a unix socket ({socket_path}); use a shorter one")
    socket = f"unix:{socket_path}"
    if database == IN_MEMORY:  # in this process: a child's death would lose it all
        in_process = await start_storage_server(database, settings.profiles_dir, socket)
        try:
            yield in_process.address
        finally:
            await in_process.stop(grace=1.0)
        return
    child = StorageProcess(database, settings.profiles_dir, socket)
    await child.start()
    try:
        yield child.address
    finally:
        await child.stop()


def _stop_requested() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _serve_shared_proxy(proxy: ModelProxy | None, address: str) -> web.AppRunner | None:
    """The model proxy's listener for sandboxes that run elsewhere, when an address is configured."""
    if proxy is None or not address:
        return None
    listener = listening(address)
    runner = await proxy.serve_shared(listener)
    print(f"model proxy for remote sandboxes listening on {shown(listener)}", flush=True)
    return runner


async def _serve_http(settings: Settings, grpc_address: str, api_key: str, bus: Bus) -> web.AppRunner | None:
    """On the HTTP address (none if it is empty), each calling this runtime's gRPC API at `grpc_address`: the
    REST shim, the Managed Agents API under /v1, the seed's wire (/api and Socket.IO), and the web console
    at / (which calls the REST shim from the browser)."""
    if not settings.http_address:
        return None
    listener = listening(settings.http_address)
    loopback = grpc.aio.insecure_channel(grpc_address.replace("0.0.0.0:", "127.0.0.1:"))
    gateway = RestGateway(loopback, SERVICE, api_key, bus if bus.shared else None)
    managed_agents = ManagedAgentsApi(loopback, api_key, settings.sandbox)
    seed = SeedWire(loopback, api_key, settings.cors_origins)
    app = gateway.app(
        {MANAGED_AGENTS: managed_agents.app(), SEED_API: seed.api_app()},
        attach=[seed.attach_sockets, ConsoleFiles().attach],
    )
    Cors(settings.cors_origins).add_to(app)
    runner = await serve_app(app, listener, settings.http_limits)
    print(f"agent-runtime REST listening on {shown(listener)}", flush=True)
    return runner


async def serve(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    api_key, key_file = resolve_api_key(settings.api_key, settings.data_dir)
    stop = _stop_requested()
    # The sandbox provider is opened first so a machine that cannot run sandboxes fails now, with the
    # reason, not at the first message; it also removes sandboxes an earlier run left behind.
    async with opened_provider(settings.sandbox, settings.data_dir) as sandboxes, storage_address(settings) as address:
        storage = StorageClient(address)
        bus: Bus = NatsBus(settings.bus, settings.replica_id) if settings.fleet else LocalBus()
        leases = LeaseKeeper(storage, settings.replica_id, settings.lease_ttl) if settings.fleet else None
        events = EventLog(storage, settings.max_subscriber_lag, bus, leases.refused if leases else None)
        watchers = SessionWatchHub(settings.heartbeat_interval, settings.max_subscriber_lag, bus)
        models = ModelAccess.from_environment()
        for variable, refused in models.keyless_architectures().items():
            log.warning("%s is not set: turns of %s will be refused", variable, ", ".join(refused))
        model_proxy = models.model_proxy(settings.model_budget_tokens)
        sessions = SessionManager(
            SessionServices(
                storage,
                events,
                sandboxes,
                models,
                model_proxy,
                settings.model_proxy_url,
                settings.workspace_quota_bytes,
                settings.input_timeout,
            ),
            watchers,
            Timing(sync_interval=settings.sync_interval, idle_timeout=settings.idle_timeout),
            leases,
            bus,
        )
        forwarder = OwnerForwarder(settings.replica_id, settings.lease_ttl) if leases else None
        server = new_server([ApiKeyInterceptor(api_key), ErrorInterceptor()], settings.grpc_limits)
        agent_runtime_pb2_grpc.add_AgentRuntimeServicer_to_server(
            AgentRuntimeServicer(
                sessions,
                EventStreams(events, settings.heartbeat_interval, sessions.resume, bus),
                watchers,
                SessionRouter(sessions, leases, forwarder),
            ),
            server,
        )
        shared_proxy = await _serve_shared_proxy(model_proxy, settings.model_proxy_address)
        health = add_health_and_reflection(server, [SERVICE_NAME])
        bound = bind(server, settings.grpc_address)
        renewal = takeover = None
        if leases is not None:
            leases.address = settings.advertise_address or bound
            leases.on_lost = sessions.lease_lost
            await bus.start(ReplicaListener(events, watchers, sessions))
            renewal = asyncio.create_task(leases.keep())
            takeover = asyncio.create_task(take_over_lapsed(storage, sessions, settings.lease_ttl / 4))
        await server.start()
        rest = await _serve_http(settings, bound, api_key, bus)
        health_task = asyncio.create_task(follow_storage_health(storage, health, [SERVICE_NAME]))
        recovery = asyncio.create_task(until_stored("the sessions left with work", sessions.resume_all))
        if key_file is not None:
            print(f"API key (kept in {key_file}): {api_key}", flush=True)
        fleet = f", replica {settings.replica_id} on {settings.bus}" if leases else ""
        print(
            f"agent-runtime gRPC listening on {bound} (storage: {settings.storage_shown}, sandbox: {settings.sandbox}"
            f"{fleet})",
            flush=True,
        )
        await stop.wait()
        running = sessions.running_turns()
        log.info("stopping: %d running turns get up to %.0fs to finish", running, settings.shutdown_grace)
        events.end_subscriptions()  # every stream ends now, saying why, so none holds the stop up
        watchers.end_watches()
        health_task.cancel()
        recovery.cancel()
        if takeover is not None:  # no more sessions taken while this replica drains
            takeover.cancel()
        await set_serving(health, [SERVICE_NAME], False)
        await sessions.shutdown(settings.shutdown_grace)  # its leases are given back as its sessions unload
        if renewal is not None:
            renewal.cancel()
        await sessions.wait_abandoned()
        if rest is not None:
            await rest.cleanup()
        await server.stop(1.0)
        if shared_proxy is not None:
            await shared_proxy.cleanup()
        if model_proxy is not None:
            await model_proxy.close()
        await models.close()
        await events.close()
        if forwarder is not None:
            await forwarder.close()
        await bus.close()
        await storage.close()
    log.info("stopped")
