"""File events that lose nothing: compare whole-workspace snapshots, however a change was noticed.

A provider calls `reconcile()` whenever something may have changed: on a live hint (inotify), after
every exec, and on a polling interval where there are no live hints (Modal). Each reconcile compares
the workspace with the last snapshot and publishes the differences once to every subscriber.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from agent_runtime.sandboxes.base import FileChange, FileChangeKind, FileInfo

Snapshot = Callable[[], Awaitable[list[FileInfo]]]


class WorkspaceWatcher:
    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._known: dict[str, tuple[int, int]] = {}
        self._subscribers: set[asyncio.Queue[FileChange | None]] = set()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Takes the baseline: files present now are not reported as created."""
        async with self._lock:
            self._known = {f.path: (f.size, f.mtime_ns) for f in await self._snapshot()}

    async def reconcile(self) -> list[FileChange]:
        async with self._lock:
            current = {f.path: (f.size, f.mtime_ns) for f in await self._snapshot()}
            changes = [FileChange(FileChangeKind.DELETED, p) for p in self._known.keys() - current.keys()]
            for path, state in current.items():
                before = self._known.get(path)
                if before is None:
                    changes.append(FileChange(FileChangeKind.CREATED, path))
                elif before != state:
                    changes.append(FileChange(FileChangeKind.MODIFIED, path))
            self._known = current
            for change in changes:
                for queue in self._subscribers:
                    queue.put_nowait(change)
            return changes

    def changes(self) -> AsyncIterator[FileChange]:
        """Every change reconciled from this call on (not from the first iteration), until close()."""
        queue: asyncio.Queue[FileChange | None] = asyncio.Queue()
        self._subscribers.add(queue)
        return self._drain(queue)

    async def _drain(self, queue: asyncio.Queue[FileChange | None]) -> AsyncIterator[FileChange]:
        try:
            while (change := await queue.get()) is not None:
                yield change
        finally:
            self._subscribers.discard(queue)

    def close(self) -> None:
        for queue in self._subscribers:
            queue.put_nowait(None)
