"""The runtime on an external storage server that goes away and comes back."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.integration.conftest import AUTH, launch, make_profiles, rpc_error
from tests.support import processes
from tests.support.rpc import assert_error, channel

HEALTH_POLLS = 60  # the runtime checks storage every 2 s; 60 polls of 0.5 s leave it plenty of time


def start_storage(root: Path, port: int) -> processes.ChildProcess:
    return processes.start(
        [
            "storage",
            "serve",
            f"--sqlite={root / 'sessions.db'}",
            f"--address=127.0.0.1:{port}",
            f"--profiles-dir={root / 'profiles'}",
        ]
    )


@dataclass
class Deployment:
    """A runtime using a storage server that the test can kill and start again on the same port."""

    root: Path
    port: int
    storage: processes.ChildProcess
    runtime: processes.ChildProcess

    def restart_storage(self) -> None:
        self.storage = start_storage(self.root, self.port)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("external")
    make_profiles(root / "profiles")
    port = processes.free_port()
    storage = start_storage(root, port)
    runtime = launch(root / "runtime-data", root / "profiles", (f"--storage=grpc://127.0.0.1:{port}",))
    setup = Deployment(root, port, storage, runtime)
    yield setup
    setup.runtime.stop()
    setup.storage.stop()


async def wait_for_health(address: str, wanted: int) -> None:
    async with channel(address) as open_channel:
        health = health_pb2_grpc.HealthStub(open_channel)
        for _ in range(HEALTH_POLLS):
            reply = await health.Check(health_pb2.HealthCheckRequest())  # type: ignore[attr-defined]
            if reply.status == wanted:
                return
            await asyncio.sleep(0.5)
    raise AssertionError(f"health never became {health_pb2.HealthCheckResponse.ServingStatus.Name(wanted)}")


async def test_an_outage_is_reported_and_loses_nothing(deployment: Deployment) -> None:
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    async with channel(deployment.runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        kept = await stub.CreateSession(
            api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic", name="kept"),
            metadata=AUTH,
        )
        await wait_for_health(deployment.runtime.address, serving)

        deployment.storage.stop(signal.SIGKILL)
        await wait_for_health(deployment.runtime.address, not_serving)
        error = await rpc_error(stub.ListSessions(api.ListSessionsRequest(), metadata=AUTH))
        assert_error(error, grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE")
        error = await rpc_error(
            stub.CreateSession(
                api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic", name="during outage"),
                metadata=AUTH,
            )
        )
        assert_error(error, grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE")

        deployment.restart_storage()
        await wait_for_health(deployment.runtime.address, serving)
        listed = await stub.ListSessions(api.ListSessionsRequest(), metadata=AUTH)
        assert [s.name for s in listed.sessions] == ["kept"]
        assert listed.sessions[0].session_id == kept.session_id
