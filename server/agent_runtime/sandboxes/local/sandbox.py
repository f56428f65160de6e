"""BubblewrapSandbox: a session's sandbox on this machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import watchfiles

from agent_runtime.sandboxes.base import (
    DiskUsage,
    FileChange,
    FileInfo,
    SandboxHealth,
    SandboxSpec,
)
from agent_runtime.sandboxes.errors import checked_path, sandbox_terminated
from agent_runtime.sandboxes.local import bubblewrap, egress, workspace_disk
from agent_runtime.sandboxes.local.cgroups import SandboxCgroup
from agent_runtime.sandboxes.local.data_pipes import DataPipes
from agent_runtime.sandboxes.local.egress import EgressProxy
from agent_runtime.sandboxes.local.execution import LocalExecution
from agent_runtime.sandboxes.local.netns import listen_in_namespace
from agent_runtime.sandboxes.local.workspace_files import WorkspaceFiles
from agent_runtime.sandboxes.watcher import WorkspaceWatcher

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 10.0


class BubblewrapSandbox:
    def __init__(
        self, sandbox_id: str, spec: SandboxSpec, directory: Path, uid: int, cgroup: SandboxCgroup | None
    ) -> None:
        self._sandbox_id = sandbox_id
        self._spec = spec
        self._directory = directory
        self._uid = uid
        self._cgroup = cgroup
        self._files = WorkspaceFiles(self.workspace, uid, uid)
        self._watcher = WorkspaceWatcher(self.list_files)
        self._process: asyncio.subprocess.Process | None = None
        self._target_pid = 0
        self._background: set[asyncio.Task[None]] = set()
        self._egress = EgressProxy(spec.allowed_hosts) if spec.allowed_hosts else None
        self._terminated = False

    @property
    def sandbox_id(self) -> str:
        return self._sandbox_id

    @property
    def session_id(self) -> str:
        return self._spec.session_id

    @property
    def workspace(self) -> Path:
        return self._directory / "workspace"

    @property
    def _procs_files(self) -> list[Path]:
        return self._cgroup.procs_files if self._cgroup else []

    async def _spawn(self, argv: Sequence[str], stdin: int, pass_fds: Sequence[int] = ()) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={},  # nothing of the runtime's environment, not even in bwrap's own /proc/1/environ
            start_new_session=True,
            pass_fds=pass_fds,
        )

    async def start(self) -> None:
        """Starts the namespaces and waits until they are ready for commands."""
        info_read, info_write = os.pipe()
        data = DataPipes()
        try:
            argv = bubblewrap.session_argv(self.workspace, self._uid, info_write, self._spec.limits.disk_bytes, data)
            self._process = await self._spawn(
                bubblewrap.joined(self._procs_files, bubblewrap.with_hidden_arguments(argv, data)),
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(info_write, *data.fds),
            )
        finally:
            os.close(info_write)
            data.close()
        try:
            assert self._process.stdout is not None
            line = await asyncio.wait_for(self._process.stdout.readline(), READY_TIMEOUT_SECONDS)
            if line.strip() != bubblewrap.READY.encode():
                raise RuntimeError(f"the sandbox did not start: {await self._stderr()}")
            with os.fdopen(info_read, "rb") as info:
                self._target_pid = json.loads(await asyncio.to_thread(info.read))["child-pid"]
            if self._egress is not None:
                await self._egress.start(self._target_pid)
        except BaseException:
            await self.terminate()
            raise
        await self._watcher.start()
        self._keep(self._follow_inotify())

    async def _stderr(self) -> str:
        assert self._process is not None and self._process.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self._process.stderr.read(), 2)).decode(errors="replace")
        return ""

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _follow_inotify(self) -> None:
        """inotify tells that something changed; the reconcile finds out what, losing nothing."""
        async for _ in watchfiles.awatch(self.workspace, debounce=50, step=10, recursive=True):
            await self._watcher.reconcile()

    def _check_running(self) -> None:
        if self._terminated or self._process is None or self._process.returncode is not None:
            raise sandbox_terminated(self._sandbox_id)

    async def exec(
        self,
        argv: Sequence[str],
        *,
        cwd: str = "",
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        private: bool = False,
    ) -> LocalExecution:
        self._check_running()
        if cwd:
            checked_path(cwd)
        limits = self._spec.limits
        proxy = egress.proxy_environment() if self._egress else {}
        environment = {**bubblewrap.base_environment(), **proxy, **self._spec.env, **(env or {})}
        if private:
            environment["LD_PRELOAD"] = bubblewrap.PRIVATE_PROCESS
        process = await self._spawn(
            bubblewrap.exec_argv(
                self._target_pid,
                self._uid,
                argv,
                cwd,
                environment,
                limits.cpu_seconds,
                limits.file_size_bytes,
                limits.max_processes,
                self._procs_files,
            ),
            stdin=asyncio.subprocess.PIPE,
        )
        execution = LocalExecution(process, timeout or limits.exec_timeout_seconds)
        self._keep(self._reconcile_after(execution))
        return execution

    async def _reconcile_after(self, execution: LocalExecution) -> None:
        await execution.wait()
        if not self._terminated:
            await self._watcher.reconcile()

    async def read_file(self, path: str) -> bytes:
        self._check_running()
        return await asyncio.to_thread(self._files.read, path)

    async def write_file(self, path: str, data: bytes) -> None:
        self._check_running()
        await asyncio.to_thread(self._files.write, path, data)

    async def delete_file(self, path: str) -> None:
        self._check_running()
        await asyncio.to_thread(self._files.delete, path)

    async def list_files(self) -> list[FileInfo]:
        return await asyncio.to_thread(self._files.scan)

    def watch(self) -> AsyncIterator[FileChange]:
        return self._watcher.changes()

    async def listen_inside(self, port: int) -> socket.socket:
        self._check_running()
        return await listen_in_namespace(self._target_pid, port)

    async def poll(self) -> SandboxHealth:
        if self._terminated:
            return SandboxHealth(running=False, message="terminated")
        if self._process is None or self._process.returncode is not None:
            code = self._process.returncode if self._process else None
            return SandboxHealth(running=False, message=f"the sandbox's process ended (exit status {code})")
        return SandboxHealth(running=True)

    async def disk_usage(self) -> DiskUsage:
        return await asyncio.to_thread(workspace_disk.usage, self.workspace)

    async def terminate(self) -> None:
        if self._terminated:
            return
        self._terminated = True
        for task in list(self._background):
            task.cancel()
        if self._cgroup is not None:
            await asyncio.to_thread(self._cgroup.kill)
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, 9)
            await self._process.wait()
        self._watcher.close()
        if self._egress is not None:
            await self._egress.close()
        await asyncio.to_thread(workspace_disk.remove, self.workspace)
        await asyncio.to_thread(shutil.rmtree, self._directory, True)
