"""File events for `watch()` on Modal, where there are no live hints (inotify is unusable there).

Changes are found by the WorkspaceWatcher's whole-workspace comparison, run after every exec and, while
anyone listens, every polling interval. A stream is subscribed when `watch()` returns it, not when it is
first read, so nothing done after the call is missed. Polling stops once no stream is left, so a watched
but idle sandbox is not kept busy (on Modal each listing is an exec, which counts as activity).
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import FileChange
from agent_runtime.sandboxes.watcher import WorkspaceWatcher

LOG = logging.getLogger(__name__)


class ChangeStream:
    """One subscriber's changes, in order; ends when the sandbox does."""

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed
        self._queue: asyncio.Queue[FileChange | None] = asyncio.Queue()

    def push(self, change: FileChange | None) -> None:
        self._queue.put_nowait(change)

    def __aiter__(self) -> ChangeStream:
        return self

    async def __anext__(self) -> FileChange:
        change = await self._queue.get()
        if change is None:
            self._queue.put_nowait(None)  # stays ended for every later read
            raise StopAsyncIteration
        return change

    async def aclose(self) -> None:
        self._feed.unsubscribe(self)
        self.push(None)


class ChangeFeed:
    def __init__(self, watcher: WorkspaceWatcher, interval: float) -> None:
        self._watcher = watcher
        self._interval = interval
        self._streams: weakref.WeakSet[ChangeStream] = weakref.WeakSet()
        self._order = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def listening(self) -> bool:
        return bool(self._streams)

    async def start(self) -> None:
        """Takes the baseline the first comparison starts from."""
        await self._watcher.start()

    def subscribe(self) -> ChangeStream:
        stream = ChangeStream(self)
        if self._closed:
            stream.push(None)
            return stream
        self._streams.add(stream)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        return stream

    def unsubscribe(self, stream: ChangeStream) -> None:
        self._streams.discard(stream)

    async def reconcile(self) -> None:
        """Compares the workspace with the last look and tells every stream what changed, in order."""
        async with self._order:
            changes = await self._watcher.reconcile()
            for stream in list(self._streams):
                for change in changes:
                    stream.push(change)

    async def _poll(self) -> None:
        while self._streams and not self._closed:
            await asyncio.sleep(self._interval)
            if not self._streams:
                return
            try:
                await self.reconcile()
            except ApiError as error:
                if error.reason == "SANDBOX_TERMINATED":
                    self.close()
                    return
                LOG.warning("could not compare the workspace: %s", error.message)
            except Exception:
                LOG.exception("could not compare the workspace")

    def close(self) -> None:
        """Ends every stream; later ones end at once."""
        self._closed = True
        if self._poller is not None and self._poller is not asyncio.current_task():
            self._poller.cancel()
        for stream in list(self._streams):
            stream.push(None)
        self._streams.clear()
        self._watcher.close()
