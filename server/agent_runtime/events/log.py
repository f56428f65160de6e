"""EventLog: gives each session event the next sequence number, stores it, then fans it out.

Events wait in a per-session batch that is written with one AppendEvents call when it is full or a
short window has passed, so a long answer does not cost one storage call per token delta. A sequence
number is given at write time, and subscribers see an event only once it is stored: whatever a caller
has seen survives a crash, and a storage outage only delays events (the batch is retried until
storage answers), it never loses or reorders them.

An event a caller must know the fate of (an accepted message) can be withdrawn while it still waits:
it is then skipped, never stored, never shown. Once its batch is on its way to storage it cannot be,
and the caller waits for storage's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import grpc
from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2
from agent_runtime.errors import ApiError
from agent_runtime.events.subscription import MAX_QUEUED_EVENTS, Subscription
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.retrying import until_stored

log = logging.getLogger(__name__)

BATCH_WINDOW_SECONDS = 0.02
MAX_BATCH = 256


@dataclass
class _SessionLog:
    head: int | None = None  # last stored sequence; None until read from storage
    pending: list[events_pb2.SessionEvent] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    stored: asyncio.Condition = field(default_factory=asyncio.Condition)
    appended: int = 0  # events ever appended here, to tell when a flush() is done
    written: int = 0
    subscribers: set[Subscription] = field(default_factory=set)
    # Set by flush(): someone waits, so the batch is written without waiting out the window.
    hurry: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: list[events_pb2.SessionEvent] = field(default_factory=list)  # the batch storage is writing
    withdrawn: list[events_pb2.SessionEvent] = field(default_factory=list)  # waiting, but never to be stored


class EventLog:
    def __init__(self, storage: StorageClient, max_subscriber_lag: int = MAX_QUEUED_EVENTS) -> None:
        self._storage = storage
        self._max_subscriber_lag = max_subscriber_lag
        self._sessions: dict[str, _SessionLog] = {}
        self.storage_writes = 0

    def _log(self, session_id: str) -> _SessionLog:
        return self._sessions.setdefault(session_id, _SessionLog())

    async def record(self, event: events_pb2.SessionEvent) -> None:
        """Appends the event and returns once it is stored: for events a caller's RPC produced."""
        self.append(event)
        await self.flush(event.session_id)

    async def record_within(self, event: events_pb2.SessionEvent, seconds: float) -> None:
        """Like record(), but an event that storage has not started writing within `seconds` is withdrawn
        and UNAVAILABLE raised: the caller then knows it was not stored."""
        self.append(event)
        session = self._log(event.session_id)
        try:
            await asyncio.wait_for(asyncio.shield(self.flush(event.session_id)), seconds)
        except TimeoutError:
            if any(e is event for e in session.in_flight):
                await self.flush(event.session_id)  # storage has it: only its answer tells whether it took it
                return
            session.withdrawn.append(event)
            raise ApiError(
                grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE", "storage did not answer; nothing was stored"
            ) from None

    def append(self, event: events_pb2.SessionEvent) -> None:
        """Queues the event (its session_id set); its time is now, its sequence is given when stored."""
        session = self._log(event.session_id)
        if not event.HasField("time"):
            event.time.CopyFrom(_now())
        session.pending.append(event)
        session.appended += 1
        if session.writer is None or session.writer.done():
            session.writer = asyncio.create_task(self._write(event.session_id, session))

    async def flush(self, session_id: str) -> None:
        """Returns once every event appended to the session so far is stored."""
        session = self._log(session_id)
        target = session.appended
        session.hurry.set()
        async with session.stored:
            await session.stored.wait_for(lambda: session.written >= target)

    async def head(self, session_id: str) -> int:
        """The session's last stored sequence (0 when it has none); NOT_FOUND for an unknown session."""
        session = self._log(session_id)
        if session.head is None:
            session.head = (await self.read(session_id, after_sequence=0, limit=1)).last_sequence
        return session.head

    async def read(self, session_id: str, after_sequence: int, limit: int) -> persistence_pb2.ReadEventsResponse:
        return await self._storage.call(
            self._storage.stub.ReadEvents,
            persistence_pb2.ReadEventsRequest(session_id=session_id, after_sequence=after_sequence, limit=limit),
        )

    def subscribe(self, session_id: str) -> Subscription:
        """Stored events of the session from now on, until unsubscribed or overrun."""
        subscription = Subscription(self._max_subscriber_lag)
        self._log(session_id).subscribers.add(subscription)
        return subscription

    def unsubscribe(self, session_id: str, subscription: Subscription) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.subscribers.discard(subscription)

    async def _write(self, session_id: str, session: _SessionLog) -> None:
        while session.pending:
            if len(session.pending) < MAX_BATCH:  # let a batch gather, unless someone waits for it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(session.hurry.wait(), BATCH_WINDOW_SECONDS)
            session.hurry.clear()
            taken = session.pending[:MAX_BATCH]
            batch = [e for e in taken if not any(e is w for w in session.withdrawn)]
            session.withdrawn = [w for w in session.withdrawn if not any(w is e for e in taken)]
            session.in_flight = batch
            stored = bool(batch) and await self._store(session_id, session, batch)
            session.in_flight = []
            del session.pending[: len(taken)]
            for subscription in list(session.subscribers) if stored else ():
                subscription.deliver(batch)
            async with session.stored:
                session.written += len(taken)
                session.stored.notify_all()

    async def _store(self, session_id: str, session: _SessionLog, batch: list[events_pb2.SessionEvent]) -> bool:
        """Writes the batch, numbering it after the stored head; waits out storage outages. False when the
        session no longer exists in storage (the events are dropped, and nobody sees them)."""
        while True:
            try:
                await until_stored("events", lambda: self._append(session_id, session, batch))
                return True
            except ApiError as error:
                if error.code == grpc.StatusCode.ABORTED:
                    if await self._already_stored(session_id, batch):
                        session.head = batch[-1].sequence  # an attempt whose answer was lost had stored them
                        return True
                    session.head = None  # someone else wrote: renumber after the real head (nobody saw these)
                elif error.code == grpc.StatusCode.NOT_FOUND:
                    log.warning("dropping %d events of deleted session %s", len(batch), session_id)
                    return False
                else:  # storage refused them for a reason of its own: keep them, say so, try again
                    log.error("storage refused %d events of %s: %s", len(batch), session_id, error.message)
                    await asyncio.sleep(1.0)

    async def _already_stored(self, session_id: str, batch: list[events_pb2.SessionEvent]) -> bool:
        """Whether storage holds this very batch at its numbers: a retried write finds its first attempt."""
        after = batch[0].sequence - 1
        stored = await until_stored("events", lambda: self.read(session_id, after, len(batch)))
        return list(stored.events) == batch

    async def _append(self, session_id: str, session: _SessionLog, batch: list[events_pb2.SessionEvent]) -> None:
        head = await self.head(session_id)
        for offset, event in enumerate(batch, start=1):
            event.sequence = head + offset
        request = persistence_pb2.AppendEventsRequest(session_id=session_id, expected_last_sequence=head, events=batch)
        self.storage_writes += 1
        reply = await self._storage.call(self._storage.stub.AppendEvents, request)
        session.head = reply.last_sequence

    def forget(self, session_id: str) -> None:
        """Drops the session's state (it was purged); its subscribers are ended."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            return
        if session.writer is not None:
            session.writer.cancel()
        for subscription in session.subscribers:
            subscription.end()

    async def close(self) -> None:
        """Stores everything still waiting."""
        writers: Iterable[asyncio.Task[None] | None] = [s.writer for s in self._sessions.values()]
        for writer in writers:
            if writer is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await writer


def _now() -> timestamp_pb2.Timestamp:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    return now
