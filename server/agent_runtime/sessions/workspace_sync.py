"""Saves every change the agent makes to its workspace, and tells the session's streams about it.

The sandbox's file events are taken as hints: each one, and each settle() (the end of every turn),
compares the workspace with what was last synced, under one lock, so no change is missed or counted
twice, and settle() returns only once everything changed so far is saved and announced. Content is
compared (by sha256) with what storage holds, so files the runtime itself put in place (a restored
workspace) are not saved or announced again. File events carry a file's path, size and sha256, never its
content, and a burst of rewrites of one file within a settle window is one event.

What storage holds of a workspace is bounded by a quota: a change that would pass it is not saved, and the
session's stream gets an error saying so. A sandbox's own disk filling up is said once too, when it does.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2, workspace_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import Sandbox
from agent_runtime.storage.client import StorageClient

log = logging.getLogger(__name__)

# A hint waits this long for the hints that follow it, so a file rewritten in a loop is scanned (and
# announced) a few times a second at most, not once per write.
SETTLE_WINDOW_SECONDS = 0.1
DEFAULT_WORKSPACE_QUOTA_BYTES = 1024 * 1024 * 1024
# A workspace disk with less than this free is full: the agent's next write fails.
DISK_FULL_BYTES = 1024 * 1024


@dataclass(frozen=True)
class _Stored:
    sha256: str
    size: int


class WorkspaceSync:
    def __init__(
        self,
        session_id: str,
        storage: StorageClient,
        emitter: BlockEmitter,
        stored: list[workspace_pb2.WorkspaceFile],
        quota_bytes: int = DEFAULT_WORKSPACE_QUOTA_BYTES,
    ) -> None:
        self._session_id = session_id
        self._storage = storage
        self._emitter = emitter
        self._stored = {f.path: _Stored(f.sha256, f.size) for f in stored}  # what storage holds
        self._stored_bytes = sum(f.size for f in stored)
        self._quota_bytes = quota_bytes
        self._seen: dict[str, tuple[int, int]] = {}  # (size, mtime) of each file when last synced
        self._disk_full = False  # said on the stream, until it is not full any more
        self._lock = asyncio.Lock()

    async def follow(self, sandbox: Sandbox) -> None:
        """Runs until the sandbox's watch ends. One settle covers every hint that came before it, so a
        burst of changes (a build writing thousands of files) costs one or two settles, not one each."""
        hinted = asyncio.Event()
        ended = False

        async def take_hints() -> None:
            nonlocal ended
            async for _ in sandbox.watch():
                hinted.set()
            ended = True
            hinted.set()

        hints = asyncio.create_task(take_hints())
        try:
            while not ended:
                await hinted.wait()
                if ended:
                    return
                await asyncio.sleep(SETTLE_WINDOW_SECONDS)
                hinted.clear()  # the scan covers what the window gathered
                await self.settle(sandbox)
        finally:
            hints.cancel()

    async def settle(self, sandbox: Sandbox) -> tuple[int, int]:
        """Returns, once every change made in the workspace so far is saved and announced, how many files
        were saved and deleted."""
        saved = deleted = 0
        async with self._lock:
            current = {f.path: (f.size, f.mtime_ns) for f in await sandbox.list_files()}
            # Only a file once seen here can be deleted: a stored one the listing never shows (in an
            # ignored folder, say) stays stored.
            for path in self._seen.keys() - current.keys():
                del self._seen[path]
                if path in self._stored:
                    await self._deleted(path)
                    deleted += 1
            for path, state in current.items():
                if self._seen.get(path) != state:
                    saved += await self._written(sandbox, path)
                    self._seen[path] = state
            await self._check_disk(sandbox)
        return saved, deleted

    async def _check_disk(self, sandbox: Sandbox) -> None:
        usage = await sandbox.disk_usage()
        full = usage is not None and (usage.free_bytes < DISK_FULL_BYTES or usage.free_inodes == 0)
        if full and not self._disk_full and usage is not None:
            message = (
                f"the workspace's disk is full: it holds {usage.limit_bytes} bytes and {usage.limit_inodes} files"
                " and folders at most (the profile's limits.diskBytes and limits.diskInodes)"
            )
            self._emitter.emit(
                events_pb2.SessionEvent(error=events_pb2.ErrorEvent(message=message, code="WORKSPACE_DISK_FULL"))
            )
        self._disk_full = full

    async def _written(self, sandbox: Sandbox, path: str) -> bool:
        """Saves the file if its content is new; says whether it did."""
        try:
            content = await sandbox.read_file(path)
        except ApiError as error:
            if error.reason == "FILE_TOO_LARGE":
                await self._not_kept(path, error.message, error.reason)
            else:  # the file went away again, or is not a regular file any more
                log.info("not syncing %s of %s: %s", path, self._session_id, error.message)
            return False
        sha256 = hashlib.sha256(content).hexdigest()
        before = self._stored.get(path)
        if before is not None and before.sha256 == sha256:
            return False
        held = self._stored_bytes - (before.size if before else 0) + len(content)
        if held > self._quota_bytes:
            message = (
                f"{path} ({len(content)} bytes) is not saved: the workspace would keep {held} bytes in storage,"
                f" over its quota of {self._quota_bytes}"
            )
            await self._not_kept(path, message, "WORKSPACE_QUOTA_EXCEEDED")
            return False
        saved = await self._storage.call(
            self._storage.stub.SaveWorkspaceFile,
            persistence_pb2.SaveWorkspaceFileRequest(
                session_id=self._session_id, file=workspace_pb2.WorkspaceFile(path=path, content=content)
            ),
        )
        self._stored[path] = _Stored(sha256, len(content))
        self._stored_bytes = held
        change = events_pb2.FileChange(file=saved.file)
        if before is None:
            self._emitter.emit(events_pb2.SessionEvent(file_created=change))
        else:
            self._emitter.emit(events_pb2.SessionEvent(file_modified=change))
        return True

    async def _not_kept(self, path: str, message: str, reason: str) -> None:
        """Says on the session's stream that the file is not kept; a copy stored before is not the file any
        more, so it goes."""
        self._emitter.emit(events_pb2.SessionEvent(error=events_pb2.ErrorEvent(message=message, code=reason)))
        if path in self._stored:
            await self._deleted(path)

    async def _deleted(self, path: str) -> None:
        await self._storage.call(
            self._storage.stub.DeleteSessionFile,
            persistence_pb2.DeleteSessionFileRequest(session_id=self._session_id, path=path),
        )
        self._stored_bytes -= self._stored.pop(path).size
        self._emitter.emit(events_pb2.SessionEvent(file_deleted=events_pb2.FileDeleted(path=path)))
