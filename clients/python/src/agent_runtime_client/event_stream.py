"""A session's events that survive a broken stream: it is opened again after the last event received.

The runtime replays a session's stored events after any cursor (`after_sequence`) and then follows live ones
with no gap, so a client that remembers the last sequence it yielded can lose the connection, or see the
runtime restart, and carry on as if nothing happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass

from grpclib.const import Status

from agent_runtime_client.errors import AgentRuntimeError, raised_as_agent_runtime_errors
from agent_runtime_client.v1 import SessionEvent, StreamSessionEventsRequest, StreamSessionEventsResponse

log = logging.getLogger(__name__)
OpenStream = Callable[[StreamSessionEventsRequest], AsyncIterator[StreamSessionEventsResponse]]


@dataclass(frozen=True)
class Reconnect:
    """When a broken stream is opened again: after `first_delay` seconds, doubling up to `max_delay`, and at
    most `attempts` times in a row (any response received, a heartbeat too, starts the count again)."""

    first_delay: float = 0.1
    max_delay: float = 2.0
    attempts: int = 30

    def delay(self, failures: int) -> float:
        return float(min(self.first_delay * 2 ** (failures - 1), self.max_delay))


def resumable(error: AgentRuntimeError) -> bool:
    """The runtime is away (stopping, restarting, unreachable), or dropped this stream for falling behind and
    asks for it to be opened again from the last sequence."""
    return error.status is Status.UNAVAILABLE or error.reason == "SUBSCRIBER_TOO_SLOW"


async def _responses(
    open_stream: OpenStream, request: StreamSessionEventsRequest
) -> AsyncGenerator[StreamSessionEventsResponse, None]:
    with raised_as_agent_runtime_errors():
        async for response in open_stream(request):
            yield response


async def resumable_events(
    open_stream: OpenStream, session_id: str, after_sequence: int, follow: bool, reconnect: Reconnect
) -> AsyncGenerator[SessionEvent, None]:
    """Each event after `after_sequence` once, in order; heartbeats are left out. Ends where the stream ends:
    at the head without `follow`, else when the session is deleted."""
    cursor, failures = after_sequence, 0
    while True:
        request = StreamSessionEventsRequest(session_id=session_id, after_sequence=cursor, follow=follow)
        try:
            async with aclosing(_responses(open_stream, request)) as responses:
                async for response in responses:
                    failures = 0
                    # A heartbeat has no event; an event at or before the cursor was yielded before a reconnect.
                    if response.event is None or response.event.sequence <= cursor:
                        continue
                    cursor = response.event.sequence
                    yield response.event
            return
        except AgentRuntimeError as error:
            failures += 1
            if not resumable(error) or failures > reconnect.attempts:
                raise
            log.info("events of %s: %s; reopening after sequence %d", session_id, error, cursor)
        await asyncio.sleep(reconnect.delay(failures))
