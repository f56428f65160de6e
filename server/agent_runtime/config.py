"""Settings of `agent-runtime serve`: each is a flag, with its default from an AGENT_RUNTIME_* variable."""

from __future__ import annotations

import argparse
import os
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from agent_runtime.connection_limits import DEFAULT_LIMITS, ConnectionLimits
from agent_runtime.sandboxes.providers import PROVIDER_NAMES
from agent_runtime.storage.leases import MAX_TTL_SECONDS
from agent_runtime.storage.store import is_postgres

DURATION_PATTERN = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """Seconds from "900", "900s", "15m", "1.5h" or "250ms"."""
    match = DURATION_PATTERN.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30s, 15m or 1h")
    return float(match.group(1)) * DURATION_UNITS[match.group(2)]


@dataclass(frozen=True)
class Settings:
    grpc_address: str
    http_address: str
    data_dir: Path
    api_key: str | None
    storage: str
    sandbox: str
    profiles_dir: Path
    idle_timeout: float
    sync_interval: float
    shutdown_grace: float
    heartbeat_interval: float
    max_subscriber_lag: int
    model_budget_tokens: int
    model_proxy_address: str
    model_proxy_url: str
    workspace_quota_bytes: int
    http_limits: ConnectionLimits
    grpc_limits: ConnectionLimits
    log_level: str
    bus: str
    replica_id: str
    advertise_address: str  # empty: the gRPC address as bound
    lease_ttl: float
    input_timeout: float
    cors_origins: tuple[str, ...] = ()

    @property
    def fleet(self) -> bool:
        """Whether this runtime is one replica of several, sharing storage and a NATS bus."""
        return self.bus != "local"

    @property
    def embedded_storage(self) -> bool:
        return self.storage in ("sqlite", "memory") or is_postgres(self.storage)

    @property
    def storage_shown(self) -> str:
        """The storage setting as it may be printed: a database URL can hold a password."""
        return "postgres" if is_postgres(self.storage) else self.storage


def _env(name: str, default: str) -> str:
    return os.environ.get(f"AGENT_RUNTIME_{name}", default)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Duration defaults stay strings ("15m") so --help shows them as written; argparse parses them."""
    add = parser.add_argument
    add(
        "--grpc-address",
        default=_env("GRPC_ADDRESS", "127.0.0.1:50051"),
        help="host:port of the gRPC API; port 0 picks a free port (env AGENT_RUNTIME_GRPC_ADDRESS)",
    )
    add(
        "--http-address",
        default=_env("HTTP_ADDRESS", "127.0.0.1:8080"),
        help="host:port of the REST shim (HTTP, JSON, server-sent events); port 0 picks a free port, empty"
        " serves none (env AGENT_RUNTIME_HTTP_ADDRESS)",
    )
    add(
        "--cors-origin",
        action="append",
        default=[origin for origin in _env("CORS_ORIGINS", "").split(",") if origin],
        metavar="ORIGIN",
        help="a browser origin (https://app.example) allowed to call the HTTP API, its streams and its"
        " Socket.IO; repeatable; none by default (env AGENT_RUNTIME_CORS_ORIGINS, comma-separated)",
    )
    add(
        "--data-dir",
        type=Path,
        default=Path(_env("DATA_DIR", "./data")),
        help="where the SQLite database, the storage socket and a generated API key live (env AGENT_RUNTIME_DATA_DIR)",
    )
    add(
        "--api-key",
        default=None,
        help="the key callers send as 'authorization: Bearer <key>'; prefer the env variable, a flag shows"
        " in the process list; if unset, one is generated and kept in the data directory"
        " (env AGENT_RUNTIME_API_KEY)",
    )
    add(
        "--storage",
        default=_env("STORAGE", "sqlite"),
        help="'sqlite' (embedded, in the data directory), 'memory' (embedded, lost on exit), a PostgreSQL URL"
        " (postgresql://..., embedded storage on that database), or the address of a PersistenceAdapter server:"
        " grpc://host:port or unix:PATH (env AGENT_RUNTIME_STORAGE)",
    )
    add(
        "--sandbox",
        default=_env("SANDBOX", "local"),
        choices=PROVIDER_NAMES,
        help="where agents run: 'local' (bubblewrap on this machine) or 'modal'; checked at start"
        " (env AGENT_RUNTIME_SANDBOX)",
    )
    add(
        "--profiles-dir",
        type=Path,
        default=Path(_env("PROFILES_DIR", "./profiles")),
        help="agent profiles, one YAML or JSON file each, for the embedded storage (env AGENT_RUNTIME_PROFILES_DIR)",
    )
    add(
        "--idle-timeout",
        type=parse_duration,
        default=_env("IDLE_TIMEOUT", "15m"),
        help="an idle session's sandbox is stopped after this long, e.g. 15m (env AGENT_RUNTIME_IDLE_TIMEOUT)",
    )
    add(
        "--sync-interval",
        type=parse_duration,
        default=_env("SYNC_INTERVAL", "30s"),
        help="how often transcripts and workspace files of loaded sessions are saved, e.g. 30s"
        " (env AGENT_RUNTIME_SYNC_INTERVAL)",
    )
    add(
        "--shutdown-grace",
        type=parse_duration,
        default=_env("SHUTDOWN_GRACE", "10s"),
        help="on SIGTERM or SIGINT, how long running calls may take to finish (env AGENT_RUNTIME_SHUTDOWN_GRACE)",
    )
    add(
        "--heartbeat-interval",
        type=parse_duration,
        default=_env("HEARTBEAT_INTERVAL", "15s"),
        help="how often an idle event or session stream says it is alive (env AGENT_RUNTIME_HEARTBEAT_INTERVAL)",
    )
    add(
        "--max-subscriber-lag",
        type=int,
        default=int(_env("MAX_SUBSCRIBER_LAG", "10000")),
        help="events a stream may fall behind before it is ended with RESOURCE_EXHAUSTED, to resume from its"
        " cursor (env AGENT_RUNTIME_MAX_SUBSCRIBER_LAG)",
    )
    add(
        "--model-budget-tokens",
        type=int,
        default=int(_env("MODEL_BUDGET_TOKENS", "10000000")),
        help="model tokens a session's sandbox may use through the model proxy; 0 is no limit"
        " (env AGENT_RUNTIME_MODEL_BUDGET_TOKENS)",
    )
    add(
        "--model-proxy-address",
        default=_env("MODEL_PROXY_ADDRESS", ""),
        help="host:port where the model proxy also listens for sandboxes that run elsewhere (Modal), every"
        " vendor under /<vendor>; empty: nowhere (env AGENT_RUNTIME_MODEL_PROXY_ADDRESS)",
    )
    add(
        "--model-proxy-url",
        default=_env("MODEL_PROXY_URL", ""),
        help="the URL at which those sandboxes reach that listener, e.g. through a tunnel; default"
        " http://<model-proxy-address> (env AGENT_RUNTIME_MODEL_PROXY_URL)",
    )
    add(
        "--workspace-quota-mib",
        type=int,
        default=int(_env("WORKSPACE_QUOTA_MIB", "1024")),
        help="MiB of files a session's workspace keeps in storage unless its profile's limits.workspaceBytes"
        " says otherwise; a change past it is not saved (env AGENT_RUNTIME_WORKSPACE_QUOTA_MIB)",
    )
    add(
        "--http-max-connections",
        type=int,
        default=int(_env("HTTP_MAX_CONNECTIONS", str(DEFAULT_LIMITS.max_connections))),
        help="connections the REST listener holds at once; the ones past it get 503 and are closed"
        " (env AGENT_RUNTIME_HTTP_MAX_CONNECTIONS)",
    )
    add(
        "--http-head-timeout",
        type=parse_duration,
        default=_env("HTTP_HEAD_TIMEOUT", f"{DEFAULT_LIMITS.head_seconds:g}s"),
        help="how long a request's head may take to arrive whole on the REST listener before the connection"
        " is closed (env AGENT_RUNTIME_HTTP_HEAD_TIMEOUT)",
    )
    add(
        "--grpc-max-connections",
        type=int,
        default=int(_env("GRPC_MAX_CONNECTIONS", str(DEFAULT_LIMITS.max_connections))),
        help="connections the gRPC listener holds at once; the ones past it are closed"
        " (env AGENT_RUNTIME_GRPC_MAX_CONNECTIONS)",
    )
    add(
        "--grpc-handshake-timeout",
        type=parse_duration,
        default=_env("GRPC_HANDSHAKE_TIMEOUT", f"{DEFAULT_LIMITS.head_seconds:g}s"),
        help="how long a connection to the gRPC listener may take to finish its HTTP/2 preface before it is"
        " closed (env AGENT_RUNTIME_GRPC_HANDSHAKE_TIMEOUT)",
    )
    add(
        "--input-timeout",
        type=parse_duration,
        default=_env("INPUT_TIMEOUT", "10m"),
        help="how long a turn waits for an approval or a client tool's result before it goes on without one"
        " (denied, or an error result, that the agent sees); 0 waits as long as the turn"
        " (env AGENT_RUNTIME_INPUT_TIMEOUT)",
    )
    add(
        "--bus",
        default=_env("BUS", "local"),
        type=_bus,
        help="'local' (one runtime, the default) or the NATS URL the replicas of a fleet share (nats://host:4222);"
        " a fleet also shares its storage, a PostgreSQL URL or a storage server (env AGENT_RUNTIME_BUS)",
    )
    add(
        "--replica-id",
        default=_env("REPLICA_ID", ""),
        help="this replica's name in a fleet, unique among its replicas; default: generated"
        " (env AGENT_RUNTIME_REPLICA_ID)",
    )
    add(
        "--advertise-address",
        default=_env("ADVERTISE_ADDRESS", ""),
        help="host:port at which the other replicas reach this one's gRPC API; default: the gRPC address as bound"
        " (env AGENT_RUNTIME_ADVERTISE_ADDRESS)",
    )
    add(
        "--lease-ttl",
        type=_lease_ttl,
        default=_env("LEASE_TTL", "10s"),
        help="how long a replica's hold on a session lasts unless renewed (every third of it); a dead replica's"
        " sessions are taken over this long after it stopped renewing (env AGENT_RUNTIME_LEASE_TTL)",
    )
    add(
        "--log-level",
        default=_env("LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
        help="(env AGENT_RUNTIME_LOG_LEVEL)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        grpc_address=args.grpc_address,
        http_address=args.http_address,
        cors_origins=tuple(args.cors_origin),
        data_dir=args.data_dir,
        api_key=args.api_key or os.environ.get("AGENT_RUNTIME_API_KEY") or None,
        storage=args.storage,
        sandbox=args.sandbox,
        profiles_dir=args.profiles_dir,
        idle_timeout=args.idle_timeout,
        sync_interval=args.sync_interval,
        shutdown_grace=args.shutdown_grace,
        heartbeat_interval=args.heartbeat_interval,
        max_subscriber_lag=args.max_subscriber_lag,
        model_budget_tokens=args.model_budget_tokens,
        model_proxy_address=args.model_proxy_address,
        model_proxy_url=args.model_proxy_url
        or (f"http://{args.model_proxy_address}" if args.model_proxy_address else ""),
        workspace_quota_bytes=args.workspace_quota_mib * 1024 * 1024,
        http_limits=ConnectionLimits(args.http_max_connections, args.http_head_timeout),
        grpc_limits=ConnectionLimits(args.grpc_max_connections, args.grpc_handshake_timeout),
        log_level=args.log_level,
        bus=args.bus,
        replica_id=args.replica_id or _generated_replica_id(),
        advertise_address=args.advertise_address,
        lease_ttl=args.lease_ttl,
        input_timeout=args.input_timeout,
    )


def _bus(text: str) -> str:
    if text == "local" or text.startswith(("nats://", "tls://")):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is neither 'local' nor a NATS URL such as nats://127.0.0.1:4222")


def _lease_ttl(text: str) -> float:
    seconds = parse_duration(text)
    if not 0 < seconds <= MAX_TTL_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r}: a lease lasts more than 0 s and at most {MAX_TTL_SECONDS} s")
    return seconds


def _generated_replica_id() -> str:
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
