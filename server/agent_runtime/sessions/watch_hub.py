"""WatchSessions: every session created, updated, deleted or changing status, to whoever watches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, session_pb2
from agent_runtime.errors import ApiError, shutting_down

MAX_QUEUED_CHANGES = 10_000
Response = agent_runtime_pb2.WatchSessionsResponse


class SessionWatchHub:
    def __init__(self, heartbeat_seconds: float, max_lag: int = MAX_QUEUED_CHANGES) -> None:
        self._heartbeat_seconds = heartbeat_seconds
        self._max_lag = max_lag
        self._watchers: set[asyncio.Queue[agent_runtime_pb2.SessionChange | None]] = set()
        self._shutting_down = False

    def end_watches(self) -> None:
        """The runtime is stopping: every watch, and every one begun from now on, ends."""
        self._shutting_down = True
        for queue in self._watchers:
            queue.put_nowait(None)

    def publish(self, kind: agent_runtime_pb2.SessionChangeKind.ValueType, session: session_pb2.Session) -> None:
        change = agent_runtime_pb2.SessionChange(kind=kind, session=session)
        for queue in list(self._watchers):
            if queue.qsize() >= self._max_lag:
                queue.put_nowait(None)  # this watcher is too slow: its stream ends, it lists again
                self._watchers.discard(queue)
            else:
                queue.put_nowait(change)

    async def watch(self, subscribed: Callable[[], Awaitable[None]]) -> AsyncIterator[Response]:
        """`subscribed` is called once changes are being kept for this watcher."""
        queue: asyncio.Queue[agent_runtime_pb2.SessionChange | None] = asyncio.Queue()
        self._watchers.add(queue)
        if self._shutting_down:
            queue.put_nowait(None)
        try:
            await subscribed()
            while True:
                try:
                    change = await asyncio.wait_for(queue.get(), self._heartbeat_seconds)
                except TimeoutError:
                    now = timestamp_pb2.Timestamp()
                    now.GetCurrentTime()
                    yield Response(heartbeat=agent_runtime_pb2.Heartbeat(time=now))
                    continue
                if change is None and self._shutting_down:
                    raise shutting_down("list the sessions again and watch anew")
                if change is None:
                    raise ApiError(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "SUBSCRIBER_TOO_SLOW",
                        "this watch fell too far behind; list the sessions again and watch anew",
                    )
                yield Response(change=change)
        finally:
            self._watchers.discard(queue)
