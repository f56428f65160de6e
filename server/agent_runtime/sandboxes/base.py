"""The sandbox interface every provider implements, and the values that cross it.

A sandbox belongs to one session. Its workspace is the agent's working directory (/workspace inside)
and the only place its files live; paths given to the file methods are relative to it and never leave
it (no "..", no absolute paths, no symlinks followed by the runtime).
"""

from __future__ import annotations

import enum
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

WORKSPACE = "/workspace"
# How many chunks of a command's output are read ahead of whoever reads it: a command that prints faster
# than it is read waits on its pipe, so the runtime's memory never holds more than this of it.
OUTPUT_READ_AHEAD_CHUNKS = 16
# Folders whose contents are tools' caches, not the agent's work: never listed, never reported.
IGNORED_FOLDERS = frozenset({".git", "node_modules", "__pycache__", ".venv"})


# An allowed_hosts entry (NetworkPolicy): any host at a public address, on any port; never the runtime's
# host or its private networks.
ANY_PUBLIC_HOST = "*"


@dataclass(frozen=True)
class SandboxLimits:
    """Per-sandbox limits; the defaults are what a profile gets when it sets none."""

    memory_bytes: int = 2 * 1024**3
    max_processes: int = 512
    # CPU seconds one process may use (RLIMIT_CPU); a runaway loop is stopped, a long build is not.
    cpu_seconds: int = 3600
    file_size_bytes: int = 1024**3
    exec_timeout_seconds: float = 600.0
    # What the workspace's own filesystem holds (and /tmp, in memory): bytes, and files and folders.
    disk_bytes: int = 1024**3
    disk_inodes: int = 262_144


@dataclass(frozen=True)
class SandboxSpec:
    """What a sandbox is created with."""

    session_id: str
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    # The agent's environment (the profile's variables); nothing of the runtime's own environment.
    env: Mapping[str, str] = field(default_factory=dict)
    # Hosts the sandbox may reach; empty means no network at all.
    allowed_hosts: Sequence[str] = ()
    # Installed into the image (Modal) or expected on the host (local).
    npm_dependencies: Sequence[str] = ()
    pip_dependencies: Sequence[str] = ()
    # Which profile the image is for, so one image serves every session of a profile.
    profile_id: str = "default"
    # Where a sandbox that cannot be offered a port of the runtime's reaches the model proxy: its host is
    # reachable even when the network is otherwise closed.
    model_proxy_url: str = ""


@dataclass(frozen=True)
class OutputChunk:
    stream: Literal["stdout", "stderr"]
    data: bytes


@dataclass(frozen=True)
class ExecResult:
    """How a command ended: an exit code, or the signal that killed it."""

    exit_code: int | None
    signal: int | None = None
    timed_out: bool = False

    @property
    def returncode(self) -> int:
        """Shell convention: the exit code, or 128 + the signal."""
        if self.exit_code is not None:
            return self.exit_code
        return 128 + (self.signal or 0)


class Execution(Protocol):
    """A running command."""

    def output(self) -> AsyncIterator[OutputChunk]:
        """stdout and stderr as they come, each in order, until both are closed."""
        ...

    async def write_stdin(self, data: bytes) -> None: ...

    async def close_stdin(self) -> None: ...

    async def wait(self) -> ExecResult: ...

    async def kill(self) -> None:
        """Ends the command and every process it started (the local provider first asks it to stop, and gives
        it a moment to write out what it keeps, such as an agent CLI's transcript)."""
        ...


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int
    mtime_ns: int


class FileChangeKind(enum.Enum):
    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True)
class FileChange:
    kind: FileChangeKind
    path: str


@dataclass(frozen=True)
class DiskUsage:
    """How full the workspace's filesystem is."""

    free_bytes: int
    free_inodes: int
    limit_bytes: int
    limit_inodes: int


@dataclass(frozen=True)
class SandboxHealth:
    running: bool
    message: str = ""


class Sandbox(Protocol):
    @property
    def sandbox_id(self) -> str: ...

    @property
    def session_id(self) -> str: ...

    async def exec(
        self,
        argv: Sequence[str],
        *,
        cwd: str = "",
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        private: bool = False,
    ) -> Execution:
        """Starts argv in the workspace (or cwd, relative to it). Background processes it leaves
        survive until the next exec ends or the sandbox is terminated (the agent's dev server).
        A private process (an agent CLI, whose stdout the runtime believes) cannot be reached into by the
        processes it starts, where the provider can keep it so (the local one)."""
        ...

    async def read_file(self, path: str) -> bytes: ...

    async def write_file(self, path: str, data: bytes) -> None:
        """Creates parent directories as needed."""
        ...

    async def list_files(self) -> list[FileInfo]:
        """Every regular file under the workspace, recursively, ignored folders left out."""
        ...

    async def delete_file(self, path: str) -> None: ...

    def watch(self) -> AsyncIterator[FileChange]:
        """Changes to workspace files as they happen, none lost: live events where the provider has
        them, and a comparison of the whole workspace after every exec and every poll interval."""
        ...

    async def listen_inside(self, port: int) -> socket.socket:
        """A socket listening on 127.0.0.1:port inside the sandbox, for the runtime to serve on (the model
        proxy); SandboxUnavailable where the provider cannot offer one."""
        ...

    async def poll(self) -> SandboxHealth: ...

    async def disk_usage(self) -> DiskUsage | None:
        """None where the provider's workspace has no filesystem of its own (Modal's limits are its own)."""
        ...

    async def terminate(self) -> None:
        """Ends every process in the sandbox. Safe to call twice."""
        ...


class SandboxProvider(Protocol):
    name: str
    # Whether a sandbox lives on when the runtime that made it dies (Modal's do; local ones die with it),
    # so that another replica, or the runtime restarted, finds it again (find()).
    outlives_runtime: bool
    # Whether its sandboxes get the spec's npm and pip dependencies installed (Modal builds them into the
    # image; a local sandbox, with no network, has only what the host has).
    installs_packages: bool

    async def check(self) -> None:
        """Raises SandboxUnavailable saying why sandboxes cannot be created here."""
        ...

    async def create(self, spec: SandboxSpec) -> Sandbox: ...

    async def find(self, session_id: str) -> Sandbox | None:
        """The live sandbox this provider created for the session, e.g. after a runtime restart."""
        ...

    async def close(self) -> None: ...


class SandboxUnavailable(RuntimeError):
    """Sandboxes cannot be created with this provider on this machine; the message says why."""
