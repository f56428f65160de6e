"""One subscriber's bounded queue of stored events."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agent_runtime._gen.agentruntime.v1 import events_pb2

# A subscriber this far behind is cut off; it resumes from its cursor, replaying from storage.
MAX_QUEUED_EVENTS = 10_000


class Subscription:
    def __init__(self, capacity: int = MAX_QUEUED_EVENTS) -> None:
        self._queue: asyncio.Queue[events_pb2.SessionEvent | None] = asyncio.Queue()
        self._capacity = capacity
        self.overrun = False
        self.shutting_down = False

    def deliver(self, events: Sequence[events_pb2.SessionEvent]) -> None:
        if self.overrun:
            return
        if self._queue.qsize() + len(events) > self._capacity:
            self.overrun = True
            self._queue.put_nowait(None)
            return
        for event in events:
            self._queue.put_nowait(event)

    def end(self) -> None:
        self._queue.put_nowait(None)

    def end_for_shutdown(self) -> None:
        self.shutting_down = True
        self.end()

    async def next(self, timeout: float) -> events_pb2.SessionEvent | None:
        """The next event; None when ended, overrun or shutting down; TimeoutError when nothing came for `timeout`."""
        return await asyncio.wait_for(self._queue.get(), timeout)
