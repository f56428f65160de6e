"""WatchSessions: every session created, updated, deleted or changing status, to whoever watches.

In a fleet, each change is also published on the bus, and the changes other replicas publish reach this
replica's watchers as well; the runtime state they carry is what this replica shows of sessions loaded
elsewhere (runtime_elsewhere).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, session_pb2
from agent_runtime.bus.base import Bus
from agent_runtime.bus.local import LocalBus
from agent_runtime.errors import ApiError, shutting_down
from agent_runtime.timestamps import now

MAX_QUEUED_CHANGES = 10_000
Response = agent_runtime_pb2.WatchSessionsResponse
# The changes that tell where a session is held (its runtime state), or that it is gone.
SAYS_WHO_HOLDS = (agent_runtime_pb2.SESSION_CHANGE_KIND_STATUS, agent_runtime_pb2.SESSION_CHANGE_KIND_DELETED)


class SessionWatchHub:
    def __init__(self, heartbeat_seconds: float, max_lag: int = MAX_QUEUED_CHANGES, bus: Bus | None = None) -> None:
        self._heartbeat_seconds = heartbeat_seconds
        self._max_lag = max_lag
        self._bus = bus or LocalBus()
        self._watchers: set[asyncio.Queue[agent_runtime_pb2.SessionChange | None]] = set()
        self._shutting_down = False
        self._elsewhere: dict[str, session_pb2.RuntimeState] = {}  # sessions other replicas said they hold

    def end_watches(self) -> None:
        """The runtime is stopping: every watch, and every one begun from now on, ends."""
        self._shutting_down = True
        for queue in self._watchers:
            queue.put_nowait(None)

    def publish(self, kind: agent_runtime_pb2.SessionChangeKind.ValueType, session: session_pb2.Session) -> None:
        change = agent_runtime_pb2.SessionChange(kind=kind, session=session)
        if kind in SAYS_WHO_HOLDS:
            self._elsewhere.pop(session.session_id, None)  # what happens here is newer than what was said
        self._bus.publish_change(change)
        self._tell_watchers(change)

    def published_elsewhere(self, change: agent_runtime_pb2.SessionChange) -> None:
        """A change another replica published."""
        session = change.session
        if change.kind == agent_runtime_pb2.SESSION_CHANGE_KIND_STATUS and session.runtime.loaded:
            self._elsewhere[session.session_id] = session.runtime
        elif change.kind in (
            agent_runtime_pb2.SESSION_CHANGE_KIND_STATUS,
            agent_runtime_pb2.SESSION_CHANGE_KIND_DELETED,
        ):
            self._elsewhere.pop(session.session_id, None)
        self._tell_watchers(change)

    def runtime_elsewhere(self, session_id: str) -> session_pb2.RuntimeState | None:
        """The runtime state of a session another replica holds, as it last said."""
        return self._elsewhere.get(session_id)

    def _tell_watchers(self, change: agent_runtime_pb2.SessionChange) -> None:
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
                    yield Response(heartbeat=agent_runtime_pb2.Heartbeat(time=now()))
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
