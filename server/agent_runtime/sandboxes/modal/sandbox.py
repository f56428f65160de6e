"""A session's Modal sandbox, through the `modal` client's async API."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Mapping, Sequence

import modal
import modal.exception

from agent_runtime.errors import ApiError, FieldViolation, bad_request
from agent_runtime.sandboxes.base import FileChange, FileInfo, SandboxHealth, SandboxUnavailable
from agent_runtime.sandboxes.errors import checked_path, sandbox_terminated
from agent_runtime.sandboxes.modal.changes import ChangeFeed, ChangeStream
from agent_runtime.sandboxes.modal.execution import ModalExecution
from agent_runtime.sandboxes.modal.translation import provider_error
from agent_runtime.sandboxes.modal.workspace_files import WorkspaceFiles
from agent_runtime.sandboxes.watcher import WorkspaceWatcher

# What Modal's return codes for a whole sandbox mean (`Sandbox.poll`).
_ENDINGS = {124: "the sandbox reached its time limit", 137: "the sandbox was terminated"}


class ModalSandbox:
    def __init__(self, handle: modal.Sandbox, session_id: str, exec_timeout: float, watch_interval: float) -> None:
        self._handle = handle
        self._session_id = session_id
        self._exec_timeout = exec_timeout
        self._files = WorkspaceFiles(handle.filesystem)
        self._changes = ChangeFeed(WorkspaceWatcher(self.list_files), watch_interval)
        self._terminated = False

    @classmethod
    async def open(
        cls, handle: modal.Sandbox, session_id: str, exec_timeout: float, watch_interval: float
    ) -> ModalSandbox:
        sandbox = cls(handle, session_id, exec_timeout, watch_interval)
        await sandbox._changes.start()
        return sandbox

    @property
    def sandbox_id(self) -> str:
        return self._handle.object_id

    @property
    def session_id(self) -> str:
        return self._session_id

    @contextlib.asynccontextmanager
    async def _translated(self) -> AsyncIterator[None]:
        """Runs a Modal call, turning its failure into SANDBOX_TERMINATED when the sandbox has ended."""
        if self._terminated:
            raise sandbox_terminated(self.sandbox_id)
        try:
            yield
        except modal.exception.Error as error:
            if await self._has_ended():
                raise sandbox_terminated(self.sandbox_id) from error
            raise provider_error(self.sandbox_id, error) from error

    async def _has_ended(self) -> bool:
        if self._terminated:
            return True
        try:
            return (await self._handle.poll.aio()) is not None
        except modal.exception.Error:
            return False

    async def exec(
        self,
        argv: Sequence[str],
        *,
        cwd: str = "",
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        private: bool = False,  # not kept here yet: Modal's image would need the preload of the local one
    ) -> ModalExecution:
        if not argv:
            raise bad_request([FieldViolation("argv", "is required", "INVALID_ARGV")])
        if cwd:
            checked_path(cwd)
        async with self._translated():
            return await ModalExecution.start(
                self._handle,
                argv,
                cwd=cwd,
                env=env or {},
                timeout=timeout or self._exec_timeout,
                on_end=self._after_exec,
            )

    async def _after_exec(self) -> None:
        if self._changes.listening and not self._terminated:
            with contextlib.suppress(ApiError):  # a sandbox that ended is reported by poll(), not here
                await self._changes.reconcile()

    async def read_file(self, path: str) -> bytes:
        async with self._translated():
            return await self._files.read(path)

    async def write_file(self, path: str, data: bytes) -> None:
        async with self._translated():
            await self._files.write(path, data)

    async def delete_file(self, path: str) -> None:
        async with self._translated():
            await self._files.delete(path)

    async def list_files(self) -> list[FileInfo]:
        async with self._translated():
            return await self._files.list()

    def watch(self) -> AsyncIterator[FileChange]:
        stream: ChangeStream = self._changes.subscribe()
        return stream

    async def listen_inside(self, port: int) -> socket.socket:
        raise SandboxUnavailable(
            "a Modal sandbox cannot be offered a port of the runtime's; it reaches the model proxy's shared"
            " listener (--model-proxy-address) over the network instead"
        )

    async def disk_usage(self) -> None:
        return None  # Modal bounds a sandbox's disk itself

    async def poll(self) -> SandboxHealth:
        if self._terminated:
            return SandboxHealth(running=False, message="terminated")
        try:
            code = await self._handle.poll.aio()
        except modal.exception.Error as error:
            raise provider_error(self.sandbox_id, error) from error
        if code is None:
            return SandboxHealth(running=True)
        return SandboxHealth(running=False, message=_ENDINGS.get(code, f"the sandbox ended with exit code {code}"))

    async def terminate(self) -> None:
        if self._terminated:
            return
        self._terminated = True
        self._changes.close()
        with contextlib.suppress(modal.exception.Error):
            await self._handle.terminate.aio(wait=True)
        await self.detach()

    async def detach(self) -> None:
        """Lets go of the connection to the sandbox, which keeps running (`find` gets it back)."""
        self._changes.close()
        with contextlib.suppress(modal.exception.Error):
            await self._handle.detach.aio()  # type: ignore[no-untyped-call]  # unannotated in modal's stub
