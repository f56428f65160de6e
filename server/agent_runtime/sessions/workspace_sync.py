"""Saves every change the agent makes to its workspace, and tells the session's streams about it.

The sandbox's file events are taken as hints: each one, and each settle() (the end of every turn),
compares the workspace with what was last synced, under one lock, so no change is missed or counted
twice, and settle() returns only once everything changed so far is saved and announced. Content is
compared with what storage holds, so files the runtime itself put in place (a restored workspace)
are not saved or announced again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2, workspace_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import Sandbox
from agent_runtime.storage.client import StorageClient

log = logging.getLogger(__name__)

# File events carry the content up to this size; larger files are served by GetWorkspaceFile.
MAX_EVENT_CONTENT_BYTES = 1024 * 1024


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class WorkspaceSync:
    def __init__(
        self, session_id: str, storage: StorageClient, emitter: BlockEmitter, stored: list[workspace_pb2.WorkspaceFile]
    ) -> None:
        self._session_id = session_id
        self._storage = storage
        self._emitter = emitter
        self._digests = {f.path: _digest(f.content) for f in stored}  # what storage holds
        self._seen: dict[str, tuple[int, int]] = {}  # (size, mtime) of each file when last synced
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
            while True:
                await hinted.wait()
                hinted.clear()
                if ended:
                    return
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
                if path in self._digests:
                    await self._deleted(path)
                    deleted += 1
            for path, state in current.items():
                if self._seen.get(path) != state:
                    saved += await self._written(sandbox, path)
                    self._seen[path] = state
        return saved, deleted

    async def _written(self, sandbox: Sandbox, path: str) -> bool:
        """Saves the file if its content is new; says whether it did."""
        try:
            content = await sandbox.read_file(path)
        except ApiError as error:
            if error.reason == "FILE_TOO_LARGE":  # said on the session's stream: the file is not kept
                error_event = events_pb2.ErrorEvent(message=error.message, code=error.reason)
                self._emitter.emit(events_pb2.SessionEvent(error=error_event))
                if path in self._digests:  # a copy stored while it was smaller is not the file any more
                    await self._deleted(path)
            else:  # the file went away again, or is not a regular file any more
                log.info("not syncing %s of %s: %s", path, self._session_id, error.message)
            return False
        digest = _digest(content)
        if self._digests.get(path) == digest:
            return False
        created = path not in self._digests
        saved = await self._storage.call(
            self._storage.stub.SaveWorkspaceFile,
            persistence_pb2.SaveWorkspaceFileRequest(
                session_id=self._session_id, file=workspace_pb2.WorkspaceFile(path=path, content=content)
            ),
        )
        self._digests[path] = digest
        file = saved.file
        omitted = len(content) > MAX_EVENT_CONTENT_BYTES
        if not omitted:
            file.content = content
        change = events_pb2.FileChange(file=file, content_omitted=omitted)
        if created:
            self._emitter.emit(events_pb2.SessionEvent(file_created=change))
        else:
            self._emitter.emit(events_pb2.SessionEvent(file_modified=change))
        return True

    async def _deleted(self, path: str) -> None:
        await self._storage.call(
            self._storage.stub.DeleteSessionFile,
            persistence_pb2.DeleteSessionFileRequest(session_id=self._session_id, path=path),
        )
        del self._digests[path]
        self._emitter.emit(events_pb2.SessionEvent(file_deleted=events_pb2.FileDeleted(path=path)))
