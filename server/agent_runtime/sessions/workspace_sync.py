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

from agent_runtime._gen.agentruntime.v1 import events_pb2, workspace_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import Sandbox
from agent_runtime.sessions.file_batch import FileBatch, Saving
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
            batch = FileBatch()
            # Only a file once seen here can be deleted: a stored one the listing never shows (in an
            # ignored folder, say) stays stored.
            for path in self._seen.keys() - current.keys():
                del self._seen[path]
                if path in self._stored:
                    batch.delete(path, self._stored[path].size)
            for path, state in current.items():
                if self._seen.get(path) != state:
                    await self._take(sandbox, path, state, batch)
                if batch.full:
                    saved, deleted = await self._stored_now(batch, saved, deleted)
                    batch = FileBatch()
            saved, deleted = await self._stored_now(batch, saved, deleted)
            await self._check_disk(sandbox)
        return saved, deleted

    async def _take(self, sandbox: Sandbox, path: str, state: tuple[int, int], batch: FileBatch) -> None:
        """Adds the file to the batch if its content is new and within the quota."""
        try:
            content = await sandbox.read_file(path)
        except ApiError as error:
            if error.reason == "FILE_TOO_LARGE":
                self._not_kept(path, error.message, error.reason, batch)
            else:  # the file went away again, or is not a regular file any more
                log.info("not syncing %s of %s: %s", path, self._session_id, error.message)
            self._seen[path] = state
            return
        sha256 = hashlib.sha256(content).hexdigest()
        before = self._stored.get(path)
        if before is not None and before.sha256 == sha256:
            self._seen[path] = state
            return
        replaced = before.size if before else 0
        held = self._stored_bytes + batch.growth - replaced + len(content)
        if held > self._quota_bytes:
            message = (
                f"{path} ({len(content)} bytes) is not saved: the workspace would keep {held} bytes in storage,"
                f" over its quota of {self._quota_bytes}"
            )
            self._not_kept(path, message, "WORKSPACE_QUOTA_EXCEEDED", batch)
            self._seen[path] = state
            return
        batch.save(Saving(path, state, content, sha256), replaced)

    def _not_kept(self, path: str, message: str, reason: str, batch: FileBatch) -> None:
        """Says on the session's stream that the file is not kept; a copy stored before is not the file any
        more, so it goes with the batch."""
        self._emitter.emit(events_pb2.SessionEvent(error=events_pb2.ErrorEvent(message=message, code=reason)))
        if path in self._stored:
            batch.delete(path, self._stored[path].size)

    async def _stored_now(self, batch: FileBatch, saved: int, deleted: int) -> tuple[int, int]:
        """Stores the batch, then announces it; returns the counts with it."""
        stored = await batch.store(self._storage, self._session_id)
        for saving, file in zip(batch.saving, stored, strict=True):
            before = self._stored.get(saving.path)
            self._stored_bytes += len(saving.content) - (before.size if before else 0)
            self._stored[saving.path] = _Stored(saving.sha256, len(saving.content))
            self._seen[saving.path] = saving.seen
            change = events_pb2.FileChange(file=file)
            if before is None:
                self._emitter.emit(events_pb2.SessionEvent(file_created=change))
            else:
                self._emitter.emit(events_pb2.SessionEvent(file_modified=change))
        for path in batch.deleting:
            gone = self._stored.pop(path, None)
            if gone is not None:
                self._stored_bytes -= gone.size
                self._emitter.emit(events_pb2.SessionEvent(file_deleted=events_pb2.FileDeleted(path=path)))
        return saved + len(batch.saving), deleted + len(batch.deleting)

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
