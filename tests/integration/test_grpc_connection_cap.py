"""The gRPC listener holds at most --grpc-max-connections connections: the ones past it are closed at once,
so a stranger's cannot take every descriptor the runtime has, and once they go, callers are served."""

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
ARGS = (f"--grpc-max-connections={CAP}",)
CLOSED_WITHIN_SECONDS = 10.0  # an upper bound for the server to act, not a measured figure


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("grpc-cap")
    profiles = make_profiles(root / "profiles")
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS), ARGS)
    yield server
    server.process.stop()


def closed_by_the_server(connection: socket.socket) -> bool:
    connection.settimeout(CLOSED_WITHIN_SECONDS)
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


async def test_connections_past_the_cap_are_closed_and_callers_served_once_they_go(runtime: Runtime) -> None:
    host, port = runtime.address.rsplit(":", 1)
    strangers = [socket.create_connection((host, int(port))) for _ in range(CAP)]
    past: list[socket.socket] = []
    for stranger in strangers:
        stranger.sendall(b"PRI * HTTP/2.0\r\n")  # half a preface, then nothing
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
