"""The gRPC listener holds at most --grpc-max-connections connections: the ones past it are closed at once,
so a stranger's cannot take every descriptor the runtime has, and once they go, callers are served. A
connection that never finishes its HTTP/2 preface is closed after --grpc-handshake-timeout, so strangers
cannot hold the slots either."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.integration.conftest import AUTH, Runtime, launch, make_profiles
from tests.support.rpc import channel

CAP = 20
ARGS = (f"--grpc-max-connections={CAP}", "--grpc-handshake-timeout=2s")
# What an HTTP/2 client sends first: the preface and an empty SETTINGS frame. A stranger that sends it
# has finished its handshake and holds its slot until the connection has been idle for a minute.
CLIENT_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
CLOSED_WITHIN_SECONDS = 10.0  # an upper bound for the server to act, not a measured figure


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("grpc-cap")
    profiles = make_profiles(root / "profiles")
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS), ARGS)
    yield server
    server.process.stop()


def closed_by_the_server(connection: socket.socket) -> bool:
    """Closed at once, before the server said anything."""
    connection.settimeout(CLOSED_WITHIN_SECONDS)
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def all_the_server_says(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (b"...TIMEOUT" if it never does)."""
    connection.settimeout(CLOSED_WITHIN_SECONDS)
    said = b""
    try:
        while chunk := connection.recv(4096):
            said += chunk
    except TimeoutError:
        return said + b"...TIMEOUT"
    return said


async def test_connections_past_the_cap_are_closed_and_callers_served_once_they_go(runtime: Runtime) -> None:
    host, port = runtime.address.rsplit(":", 1)
    strangers = [socket.create_connection((host, int(port))) for _ in range(CAP)]
    past: list[socket.socket] = []
    for stranger in strangers:
        stranger.sendall(CLIENT_PREFACE)
    try:
        past += [socket.create_connection((host, int(port))) for _ in range(3)]
        closed = await asyncio.gather(*(asyncio.to_thread(closed_by_the_server, c) for c in past))
        assert all(closed), "connections past the cap are closed"
    finally:
        for connection in strangers + past:
            connection.close()

    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        listed = await stub.ListSessions(api.ListSessionsRequest(), metadata=AUTH, timeout=CLOSED_WITHIN_SECONDS)
    assert isinstance(listed, api.ListSessionsResponse)


async def test_a_connection_that_never_finishes_its_preface_is_closed(runtime: Runtime) -> None:
    host, port = runtime.address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as stranger:
        stranger.sendall(CLIENT_PREFACE[:10])  # half a preface, then nothing
        said = await asyncio.to_thread(all_the_server_says, stranger)

    assert not said.endswith(b"...TIMEOUT"), "the server closed the connection"
    assert b"handshake timeout" in said, said
