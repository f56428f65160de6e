"""What every gRPC server here has in common: message limits, health, reflection, binding."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from grpc_health.v1 import _async as health_aio  # the module grpc_health.v1.health exposes as .aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from agent_runtime.connection_limits import ConnectionLimits

# Workspace files go up to 10 MiB each and a create request may carry 32 MiB of them.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # A second server on a taken port must fail, not silently share it.
    ("grpc.so_reuseport", 0),
]


# A connection with no call for this long is closed (GOAWAY; a client's channel reconnects when it next
# calls), as the HTTP listener closes an idle keep-alive connection.
IDLE_CONNECTION_MS = 60_000


def new_server(
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (), limits: ConnectionLimits | None = None
) -> grpc.aio.Server:
    """`limits` (none: grpc's defaults): connections past `max_connections` are refused and one that has
    not finished its HTTP/2 preface within `head_seconds`, or has had no call for a minute, is closed, so a
    stranger's can neither take every descriptor the process has nor hold the slots."""
    guarded = (
        [
            ("grpc.max_allowed_incoming_connections", limits.max_connections),
            ("grpc.server_handshake_timeout_ms", int(limits.head_seconds * 1000)),
            ("grpc.max_connection_idle_ms", IDLE_CONNECTION_MS),
        ]
        if limits
        else []
    )
    return grpc.aio.server(interceptors=list(interceptors), options=[*SERVER_OPTIONS, *guarded])


def add_health_and_reflection(server: grpc.aio.Server, service_names: Sequence[str]) -> health_aio.HealthServicer:
    """Health starts NOT_SERVING for the whole server and each service; the owner says when it serves."""
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    return health_servicer


async def set_serving(health_servicer: health_aio.HealthServicer, services: Sequence[str], serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", *services):
        await health_servicer.set(name, status)


def bind(server: grpc.aio.Server, address: str) -> str:
    """Binds `host:port` (port 0 picks a free one) or `unix:PATH`; returns the address bound."""
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as error:  # grpc's way of saying the bind failed
        raise OSError(f"cannot listen on {address}: the address is in use or not allowed") from error
    if port == 0:
        raise OSError(f"cannot listen on {address}: the address is in use or not allowed")
    if address.startswith("unix:"):
        return address
    host = address.rsplit(":", 1)[0]
    return f"{host}:{port}"
