"""One subscriber's bounded queue of stored events."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agent_runtime._gen.agentruntime.v1 import events_pb2

# A subscriber this far behind is cut off; it resumes from its cursor, replaying from storage.
MAX_QUEUED_EVENTS = 10_000
# What next() gives when the subscriber should look in storage for events it may have missed.
CHECK_STORAGE = events_pb2.SessionEvent()


class Subscription:
    def __init__(self, capacity: int = MAX_QUEUED_EVENTS) -> None:
        self._queue: asyncio.Queue[events_pb2.SessionEvent | None] = asyncio.Queue()
        self._capacity = capacity
        self.overrun = False
        self.shutting_down = False
        self._check_queued = False

    def deliver(self, events: Sequence[events_pb2.SessionEvent]) -> None:
        if self.overrun:
            return
        if self._queue.qsize() + len(events) > self._capacity:
            self.overrun = True
            self._queue.put_nowait(None)
            return
        for event in events:
            self._queue.put_nowait(event)

    def check_storage(self) -> None:
        """Events were stored that did not come this way (another replica's, while the bus was down)."""
        if not self._check_queued:
            self._check_queued = True
            self._queue.put_nowait(CHECK_STORAGE)

    def end(self) -> None:
        self._queue.put_nowait(None)

    def end_for_shutdown(self) -> None:
        self.shutting_down = True
        self.end()

    async def next(self, timeout: float) -> events_pb2.SessionEvent | None:
        """The next event, or CHECK_STORAGE; None when ended, overrun or shutting down; TimeoutError when
        nothing came for `timeout`."""
        if self._queue.empty():
            event = await asyncio.wait_for(self._queue.get(), timeout)
        else:  # a subscriber that is behind takes what is queued without a timer (wait_for makes a task)
            event = self._queue.get_nowait()
        if event is CHECK_STORAGE:
            self._check_queued = False
        return event
