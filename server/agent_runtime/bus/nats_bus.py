"""The bus of a fleet, on core NATS: at-most-once messages, which is all a hint needs (bus/base.py).

Subjects: `agent-runtime.events.<session id>` (a ReadEventsResponse of the events a replica stored, or just
the new head when they would not fit a message), `agent-runtime.sessions` (SessionChange) and
`agent-runtime.handoffs` (a session id). A replica's own messages never come back to it (no_echo).

A replica starts whether or not NATS answers and keeps trying to reach it; while it is away, nothing is
published (the outbox is dropped) and streams read storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any
from urllib.parse import urlsplit

import nats.errors
from google.protobuf.message import DecodeError
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2, persistence_pb2
from agent_runtime.bus.base import BusListener

log = logging.getLogger(__name__)

EVENTS_SUBJECT = "agent-runtime.events."
CHANGES_SUBJECT = "agent-runtime.sessions"
HANDOFFS_SUBJECT = "agent-runtime.handoffs"
# Messages waiting to be published; past this the oldest are dropped (their readers go to storage).
OUTBOX_LIMIT = 10_000
RETRY_SECONDS = 1.0
FLUSH_SECONDS = 1.0
CLOSE_SECONDS = 2.0
FAILURES = (OSError, TimeoutError, nats.errors.Error)


def shown(url: str) -> str:
    """The URL without credentials, for logs and health."""
    parts = urlsplit(url)
    return parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()


class NatsBus:
    shared = True

    def __init__(self, url: str, replica_id: str) -> None:
        self._url = url
        self._replica_id = replica_id
        self._client: Client | None = None
        self._listener: BusListener | None = None
        self._problem = f"NATS at {shown(url)} has not answered yet"
        self._followed: dict[str, Subscription | None] = {}  # None: wanted, not yet subscribed
        self._outbox: deque[tuple[str, bytes]] = deque(maxlen=OUTBOX_LIMIT)
        self._outbox_filled = asyncio.Event()
        self._outbox_empty = asyncio.Event()
        self._outbox_empty.set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def live(self) -> bool:
        return self._client is not None and self._client.is_connected

    def problem(self) -> str:
        return "" if self.live else self._problem

    async def start(self, listener: BusListener) -> None:
        """Connects in the background; waits a moment for it, so a fleet whose NATS answers starts live."""
        self._listener = listener
        connecting = self._keep(self._connect())
        self._keep(self._publish())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(connecting), RETRY_SECONDS * 2)

    def _keep(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _connect(self) -> None:
        said = False
        while True:
            client = Client()
            try:
                await client.connect(
                    servers=[self._url],
                    name=f"agent-runtime {self._replica_id}",
                    no_echo=True,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=int(RETRY_SECONDS),
                    connect_timeout=2,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    error_cb=self._error,
                )
                break
            except FAILURES as error:
                self._problem = f"NATS at {shown(self._url)} is unreachable: {error or type(error).__name__}"
                if not said:
                    log.warning("%s; streams of other replicas' sessions read storage until it answers", self._problem)
                    said = True
                await asyncio.sleep(RETRY_SECONDS)
        self._client = client
        await client.subscribe(CHANGES_SUBJECT, cb=self._on_change)
        await client.subscribe(HANDOFFS_SUBJECT, cb=self._on_handoff)
        await self._subscribe_wanted()
        log.info("bus: connected to NATS at %s", shown(self._url))
        if said and self._listener is not None:  # streams that read storage meanwhile look once more
            self._listener.reconnected()

    async def _disconnected(self) -> None:
        self._problem = f"the connection to NATS at {shown(self._url)} was lost"
        log.warning("%s; streams of other replicas' sessions read storage until it is back", self._problem)

    async def _reconnected(self) -> None:
        log.info("bus: NATS at %s answers again", shown(self._url))
        await self._subscribe_wanted()
        if self._listener is not None:
            self._listener.reconnected()

    async def _error(self, error: Exception) -> None:
        log.debug("bus: %s", error)

    async def _subscribe_wanted(self) -> None:
        for session_id in [s for s, sub in self._followed.items() if sub is None]:
            await self._subscribe(session_id)
        await self._flushed()

    async def _subscribe(self, session_id: str) -> None:
        if self._client is None or not self._client.is_connected:
            return
        try:
            subscription = await self._client.subscribe(EVENTS_SUBJECT + session_id, cb=self._on_events)
        except FAILURES:
            return  # subscribed again once the connection is back
        if session_id in self._followed and self._followed[session_id] is None:
            self._followed[session_id] = subscription
        else:  # unfollowed meanwhile, or followed twice
            self._keep(self._quietly(subscription.unsubscribe()))

    async def _flushed(self) -> None:
        """Returns once the server has what was sent, so a subscription made is in force."""
        if self._client is not None and self._client.is_connected:
            with contextlib.suppress(*FAILURES):
                await self._client.flush(timeout=int(FLUSH_SECONDS))

    async def follow_events(self, session_id: str) -> None:
        if session_id in self._followed:
            return
        self._followed[session_id] = None
        await self._subscribe(session_id)
        await self._flushed()

    def unfollow_events(self, session_id: str) -> None:
        subscription = self._followed.pop(session_id, None)
        if subscription is not None:
            self._keep(self._quietly(subscription.unsubscribe()))

    async def _quietly(self, work: Awaitable[None]) -> None:
        with contextlib.suppress(*FAILURES):
            await work

    def publish_events(self, session_id: str, events: Sequence[events_pb2.SessionEvent], head: int) -> None:
        payload = persistence_pb2.ReadEventsResponse(events=events, last_sequence=head).SerializeToString()
        limit = self._client.max_payload if self._client is not None else 0
        if limit and len(payload) > limit:  # the head alone: readers take the events from storage
            payload = persistence_pb2.ReadEventsResponse(last_sequence=head).SerializeToString()
        self._send(EVENTS_SUBJECT + session_id, payload)

    def publish_change(self, change: agent_runtime_pb2.SessionChange) -> None:
        self._send(CHANGES_SUBJECT, change.SerializeToString())

    def publish_handoff(self, session_id: str) -> None:
        self._send(HANDOFFS_SUBJECT, session_id.encode())

    def _send(self, subject: str, payload: bytes) -> None:
        if not self.live:
            return  # nobody would hear it: those who listen read storage meanwhile
        self._outbox.append((subject, payload))
        self._outbox_empty.clear()
        self._outbox_filled.set()

    async def _publish(self) -> None:
        """Publishes the outbox in order, one message at a time, so a session's batches keep their order."""
        while True:
            await self._outbox_filled.wait()
            self._outbox_filled.clear()
            while self._outbox:
                subject, payload = self._outbox.popleft()
                if self._client is None or not self._client.is_connected:
                    self._outbox.clear()
                    break
                with contextlib.suppress(*FAILURES):
                    await self._client.publish(subject, payload)
            self._outbox_empty.set()

    async def _published(self) -> None:
        await self._outbox_empty.wait()
        await self._flushed()

    async def _on_events(self, message: Msg) -> None:
        if self._listener is None:
            return
        with contextlib.suppress(DecodeError):  # not from a replica: nothing to hear
            published = persistence_pb2.ReadEventsResponse.FromString(message.data)
            session_id = message.subject.removeprefix(EVENTS_SUBJECT)
            self._listener.events_published(session_id, published.events, published.last_sequence)

    async def _on_change(self, message: Msg) -> None:
        if self._listener is not None:
            with contextlib.suppress(DecodeError):
                self._listener.session_changed(agent_runtime_pb2.SessionChange.FromString(message.data))

    async def _on_handoff(self, message: Msg) -> None:
        if self._listener is not None:
            self._listener.handed_off(message.data.decode())

    async def close(self) -> None:
        """Publishes what waits in the outbox (a stopping replica's hand-offs), for a moment at most, then
        disconnects."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._published(), CLOSE_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            with contextlib.suppress(*FAILURES):
                await self._client.close()
