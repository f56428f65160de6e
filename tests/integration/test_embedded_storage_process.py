"""The embedded SQLite storage runs in a child process of the runtime: started again when it dies, losing
nothing, and never outliving the runtime, however the runtime ends."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.integration.conftest import AUTH, launch, make_profiles
from tests.support import processes
from tests.support.rpc import channel

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

WAIT_SECONDS = 30.0


def storage_child(runtime_pid: int) -> int:
    """The pid of the runtime's embedded storage process."""
    children = " ".join(path.read_text() for path in Path(f"/proc/{runtime_pid}/task").glob("*/children")).split()
    found = [pid for pid in map(int, children) if b"embedded_child" in _cmdline(pid)]
    assert len(found) == 1, f"the runtime's storage processes: {found}"
    return found[0]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_until_gone(pid: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while is_running(pid):
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.1)


def start(root: Path) -> processes.ChildProcess:
    return launch(root / "data", make_profiles(root / "profiles"))


async def create(stub: AgentRuntimeAsyncStub, name: str) -> str:
    """Creates a session, trying again while storage is unavailable (and only then)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            created = await stub.CreateSession(
                api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic", name=name),
                metadata=AUTH,
            )
            return str(created.session_id)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_a_killed_storage_process_is_started_again_and_loses_nothing(tmp_path: Path) -> None:
    runtime = start(tmp_path)
    try:
        async with channel(runtime.address) as open_channel:
            stub: AgentRuntimeAsyncStub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
            before = await create(stub, "before")
            killed = storage_child(runtime.process.pid)
            os.kill(killed, signal.SIGKILL)
            after = await create(stub, "after")
            assert storage_child(runtime.process.pid) != killed
            listed = await stub.ListSessions(api.ListSessionsRequest(), metadata=AUTH)
            assert sorted(s.session_id for s in listed.sessions) == sorted([before, after])
    finally:
        assert runtime.stop() == 0
    assert "the embedded storage server exited (status -9); starting it again" in runtime.text()


def test_the_storage_process_ends_with_the_runtime_when_it_stops(tmp_path: Path) -> None:
    runtime = start(tmp_path)
    child = storage_child(runtime.process.pid)
    assert runtime.stop(signal.SIGINT) == 0
    assert not is_running(child), "the runtime waited for its storage process to stop"


def test_the_storage_process_ends_with_the_runtime_when_it_is_killed(tmp_path: Path) -> None:
    runtime = start(tmp_path)
    child = storage_child(runtime.process.pid)
    runtime.stop(signal.SIGKILL)
    wait_until_gone(child)
