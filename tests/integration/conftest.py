"""A real `agent-runtime serve` per test module, on embedded SQLite in a temporary data directory."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.support import processes
from tests.support.rpc import bearer, channel

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

REPO = Path(__file__).resolve().parents[2]
API_KEY = "test-key-0123456789"

# A profile whose default files show the order: the profile's first, then the request's.
FILES_PROFILE = """
id: with-files
name: With Files
defaultWorkspaceFiles:
  - path: README.md
    content: "from the profile\\n"
  - path: src/keep.txt
    content: kept
  - path: assets/dot.bin
    contentBase64: AAEC/w==
"""


@dataclass
class Runtime:
    """A running server and the way to start it again on the same data."""

    data_dir: Path
    profiles_dir: Path
    process: processes.ChildProcess
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] | None = None

    @property
    def address(self) -> str:
        return self.process.address

    def restart(self) -> None:
        self.process.stop()
        self.process = launch(self.data_dir, self.profiles_dir, self.extra_args, self.env)


def launch(
    data_dir: Path, profiles_dir: Path, extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> processes.ChildProcess:
    """`agent-runtime serve` on the given data; no model key unless `env` gives one."""
    return processes.start(
        [
            "serve",
            "--grpc-address=127.0.0.1:0",
            f"--data-dir={data_dir}",
            f"--profiles-dir={profiles_dir}",
            *extra_args,
        ],
        env={
            "AGENT_RUNTIME_API_KEY": API_KEY,
            **dict.fromkeys(
                ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL"), ""
            ),
            **(env or {}),
        },
    )


def make_profiles(directory: Path) -> Path:
    directory.mkdir()
    shutil.copy(REPO / "profiles" / "default.yaml", directory)
    (directory / "with-files.yaml").write_text(FILES_PROFILE)
    return directory


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("runtime")
    profiles_dir = make_profiles(root / "profiles")
    server = Runtime(root / "data", profiles_dir, launch(root / "data", profiles_dir))
    yield server
    server.process.stop()


@pytest.fixture
async def stub(runtime: Runtime) -> AsyncIterator[AgentRuntimeAsyncStub]:
    async with channel(runtime.address) as open_channel:
        yield agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)


AUTH = bearer(API_KEY)


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """The error an awaited call raised; fails the test if it succeeded."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded; an error was expected")
