"""StreamSessionEvents: replay from storage after the caller's cursor, then follow live, with no gap
and no duplicate, however often the caller reconnects and whether or not the runtime restarted.

The live subscription is opened before the replay starts, so nothing falls between the two; an event
that arrives out of step with the cursor (after a reconnect, or an overrun) sends the stream back to
storage for what lies between.

A stream yields the events themselves and heartbeats; each surface encodes them its own way (the gRPC
API once per event for all its subscribers).

In a fleet, another replica may store the session's events, and the bus that brings them may drop one:
a stream also looks in storage whenever it has been quiet for a heartbeat, and every half second while
the bus is down, so it ends up with every event, in order, whatever the bus did.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2
from agent_runtime.bus.base import Bus
from agent_runtime.bus.local import LocalBus
from agent_runtime.errors import ApiError, FieldViolation, bad_request, shutting_down
from agent_runtime.events.log import EventLog
from agent_runtime.events.subscription import CHECK_STORAGE
from agent_runtime.sessions.validation import check_session_id
from agent_runtime.timestamps import now

REPLAY_PAGE = 256
# How often a stream of a fleet looks in storage while the bus is down.
STORAGE_POLL_SECONDS = 0.5
StreamItem = events_pb2.SessionEvent | agent_runtime_pb2.Heartbeat
# What the stream's wait gives when nothing came.
QUIET = events_pb2.SessionEvent()


def _heartbeat(head: int) -> agent_runtime_pb2.Heartbeat:
    return agent_runtime_pb2.Heartbeat(head_sequence=head, time=now())


class EventStreams:
    def __init__(
        self,
        log: EventLog,
        heartbeat_seconds: float,
        settle: Callable[[str], Awaitable[None]] | None = None,
        bus: Bus | None = None,
    ) -> None:
        """`settle` is awaited before a session's log is read: what a dead runtime left is closed first."""
        self._log = log
        self._heartbeat_seconds = heartbeat_seconds
        self._settle = settle
        self._bus = bus or LocalBus()

    def _wait_seconds(self) -> float:
        if self._bus.live:
            return self._heartbeat_seconds
        return min(self._heartbeat_seconds, STORAGE_POLL_SECONDS)

    async def _replay(self, session_id: str, after: int, until: int | None) -> AsyncIterator[events_pb2.SessionEvent]:
        """Stored events after `after` (up to `until` when given), in order."""
        cursor = after
        while until is None or cursor < until:
            page = await self._log.read(session_id, cursor, REPLAY_PAGE)
            for event in page.events:
                if until is not None and event.sequence > until:
                    return
                yield event
                cursor = event.sequence
            if not page.events or cursor >= page.last_sequence:
                return

    async def stream(
        self, request: agent_runtime_pb2.StreamSessionEventsRequest, subscribed: Callable[[], Awaitable[None]]
    ) -> AsyncIterator[StreamItem]:
        """`subscribed` is called once the stream is checked and live events are being kept for it (the
        servicer sends the response headers then, so a caller knows nothing from now on is missed)."""
        check_session_id(request.session_id)
        if request.after_sequence < 0:
            raise bad_request([FieldViolation("after_sequence", "must not be negative", "NEGATIVE_NUMBER")])
        session_id = request.session_id
        subscription = await self._log.subscribe(session_id)
        try:
            if self._settle is not None:
                await self._settle(session_id)
            head = (await self._log.read(session_id, 0, 1)).last_sequence  # NOT_FOUND for an unknown session
            if request.after_sequence > head:
                raise ApiError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    "CURSOR_BEYOND_HEAD",
                    f"after_sequence {request.after_sequence} is beyond the last event, {head}",
                    metadata={"head_sequence": str(head)},
                )
            await subscribed()
            cursor = request.after_sequence
            async for event in self._replay(session_id, cursor, None):
                yield event
                cursor = event.sequence
            if not request.follow:
                return
            loop = asyncio.get_running_loop()
            last_sent = loop.time()
            while True:
                try:
                    live = await subscription.next(self._wait_seconds())
                except TimeoutError:
                    live = QUIET
                if live is None:
                    if subscription.shutting_down:
                        raise shutting_down(
                            "resume with after_sequence = the last sequence received", last_sequence=str(cursor)
                        )
                    if subscription.overrun:
                        raise ApiError(
                            grpc.StatusCode.RESOURCE_EXHAUSTED,
                            "SUBSCRIBER_TOO_SLOW",
                            "this stream fell too far behind; resume with after_sequence = the last sequence received",
                            metadata={"last_sequence": str(cursor)},
                        )
                    return  # the session was deleted
                if live is QUIET or live is CHECK_STORAGE:
                    if self._bus.shared:  # what another replica stored may not have come this way
                        async for missed in self._replay(session_id, cursor, None):
                            yield missed
                            cursor, last_sent = missed.sequence, loop.time()
                    if live is QUIET and loop.time() - last_sent >= self._heartbeat_seconds:
                        yield _heartbeat(cursor if self._bus.shared else max(cursor, await self._log.head(session_id)))
                        last_sent = loop.time()
                    continue
                if live.sequence <= cursor:
                    continue
                if live.sequence > cursor + 1:  # a gap: what this way did not bring, from storage
                    async for missed in self._replay(session_id, cursor, live.sequence - 1):
                        yield missed
                yield live
                cursor, last_sent = live.sequence, loop.time()
        finally:
            self._log.unsubscribe(session_id, subscription)
