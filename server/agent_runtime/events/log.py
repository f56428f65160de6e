"""EventLog: gives each session event the next sequence number, stores it, then fans it out.

A session's writer stores at once what is pending whenever it is free (group commit): events that come
while a write is in flight go into the next one, so batches grow by themselves under load, and an event of
an idle session waits one storage round trip. A session's writes are held to one per MIN_WRITE_INTERVAL
after a burst of WRITE_BURST (write_budget.py), so a model streaming a thousand tokens a second costs at
most 200 storage calls a second past the burst, and its first token is not held back by the turn's
opening events. A sequence number is given at write time, and subscribers see an event only once it is
stored: whatever a caller has seen survives a crash, and a storage outage only delays events (the batch
is retried until storage answers), it never loses or reorders them.

An event whose caller cannot wait out an outage (an accepted message) can be withdrawn: it is then
left out of the next attempt. A write whose answer was lost may have been stored all the same; a
retried write that storage refuses as out of date looks for it at its numbers, so events are never
stored twice, and the caller of a withdrawn event is told whether it was stored after all.

In a fleet, a session's writes carry the generation of the lease its replica holds (set_fence), and
what is stored is also published on the bus for the other replicas' subscribers. A write storage refuses
for that generation (LEASE_LOST) is dropped unstored, so nobody ever sees it, and its flush() raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import grpc

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2
from agent_runtime.bus.base import Bus
from agent_runtime.bus.local import LocalBus
from agent_runtime.errors import ApiError
from agent_runtime.events.subscription import MAX_QUEUED_EVENTS, Subscription
from agent_runtime.events.write_budget import WriteBudget
from agent_runtime.storage import leases
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.leases import LEASE_LOST
from agent_runtime.storage.retrying import until_stored
from agent_runtime.timestamps import now

log = logging.getLogger(__name__)

MIN_WRITE_INTERVAL_SECONDS = 0.005
WRITE_BURST = 4
MAX_BATCH = 256
# Ranges of events dropped unstored that a flush() still asks about are kept this many at most.
KEPT_REFUSALS = 16


@dataclass
class _SessionLog:
    head: int | None = None  # last stored sequence; None until read from storage
    pending: list[events_pb2.SessionEvent] = field(default_factory=list)
    # The pending events' lease generations, as runs of [generation, count] in order: a batch is written
    # with the generation it was appended under (0: not fenced), never a later owner's.
    runs: deque[list[int]] = field(default_factory=deque)
    writer: asyncio.Task[None] | None = None
    appended: int = 0  # events ever appended here, to tell when a flush() is done
    written: int = 0  # of those, how many were stored (or dropped)
    # flush() calls waiting, each until `written` reaches its number.
    flushes: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)
    subscribers: set[Subscription] = field(default_factory=set)
    # Set by flush(): someone waits, so the batch is written without waiting out the interval.
    hurry: asyncio.Event = field(default_factory=asyncio.Event)
    budget: WriteBudget = field(default_factory=lambda: WriteBudget(MIN_WRITE_INTERVAL_SECONDS, WRITE_BURST))
    # Events their callers gave up on, each with the future told whether storage took it all the same.
    withdrawn: list[tuple[events_pb2.SessionEvent, asyncio.Future[bool]]] = field(default_factory=list)
    generation: int = 0  # the lease generation events appended from now on are written with
    abandoned: int = 0  # generations up to this one are lost: their events are dropped, unwritten
    # Events dropped unstored, as (first, last) of their numbers in append order: flush() raises for them.
    refused: list[tuple[int, int]] = field(default_factory=list)

    def refuse_next(self, count: int) -> None:
        """The next `count` events to be written are dropped, never stored."""
        self.refused = [*self.refused[-KEPT_REFUSALS + 1 :], (self.written + 1, self.written + count)]

    def advance(self, count: int) -> None:
        """`count` more events were stored or dropped: the flushes waiting for them return."""
        self.written += count
        waiting = []
        for target, done in self.flushes:
            if target <= self.written and not done.done():
                done.set_result(None)
            elif not done.done():
                waiting.append((target, done))
        self.flushes = waiting


@dataclass
class _Attempt:
    """A write whose answer was lost: the events sent, and copies as numbered then."""

    events: list[events_pb2.SessionEvent]
    copies: list[events_pb2.SessionEvent]


class EventWithdrawn(ApiError):
    """Storage did not take the event in time; `stored_anyway` resolves to whether it had after all."""

    def __init__(self, stored_anyway: asyncio.Future[bool]) -> None:
        super().__init__(grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE", "storage did not answer in time")
        self.stored_anyway = stored_anyway


def moved_before_stored(session_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.UNAVAILABLE,
        LEASE_LOST,
        f"session {session_id!r} moved to another replica before this was stored; send it again",
        metadata={"session_id": session_id},
    )


class EventLog:
    def __init__(
        self,
        storage: StorageClient,
        max_subscriber_lag: int = MAX_QUEUED_EVENTS,
        bus: Bus | None = None,
        lease_lost: Callable[[str], None] | None = None,
    ) -> None:
        """`lease_lost` is told of a session whose write storage refused for its lease generation."""
        self._storage = storage
        self._max_subscriber_lag = max_subscriber_lag
        self._bus = bus or LocalBus()
        self._lease_lost = lease_lost
        self._shutting_down = False
        self._sessions: dict[str, _SessionLog] = {}
        self.storage_writes = 0

    def _log(self, session_id: str) -> _SessionLog:
        return self._sessions.setdefault(session_id, _SessionLog())

    async def record(self, event: events_pb2.SessionEvent) -> None:
        """Appends the event and returns once it is stored: for events a caller's RPC produced."""
        self.append(event)
        await self.flush(event.session_id)

    async def record_within(self, event: events_pb2.SessionEvent, seconds: float) -> None:
        """Like record(), but if storage has not taken the event within `seconds` it is withdrawn and
        EventWithdrawn raised: it will not be stored, unless an attempt whose answer was lost already
        stored it, which the exception's `stored_anyway` tells once storage answers again."""
        self.append(event)
        session = self._log(event.session_id)
        try:
            await asyncio.wait_for(asyncio.shield(self.flush(event.session_id)), seconds)
        except TimeoutError:
            if not any(e is event for e in session.pending):
                return  # its batch was stored just now
            fate = asyncio.get_running_loop().create_future()
            session.withdrawn.append((event, fate))
            raise EventWithdrawn(fate) from None

    def append(self, event: events_pb2.SessionEvent) -> None:
        """Queues the event (its session_id set); its time is now, its sequence is given when stored."""
        session = self._log(event.session_id)
        if not event.HasField("time"):
            event.time.CopyFrom(now())
        session.pending.append(event)
        if session.runs and session.runs[-1][0] == session.generation:
            session.runs[-1][1] += 1
        else:
            session.runs.append([session.generation, 1])
        session.appended += 1
        if session.writer is None or session.writer.done():
            session.writer = asyncio.create_task(self._write(event.session_id, session))

    async def flush(self, session_id: str) -> None:
        """Returns once every event appended to the session so far is stored; UNAVAILABLE LEASE_LOST if the
        last of them was dropped instead, its replica having lost the session's lease."""
        session = self._log(session_id)
        target = session.appended
        if session.written < target:
            session.hurry.set()
            done = asyncio.get_running_loop().create_future()
            session.flushes.append((target, done))
            await done
        if any(first <= target <= last for first, last in session.refused):
            raise moved_before_stored(session_id)

    def set_fence(self, session_id: str, generation: int) -> None:
        """Events of the session appended from now on are written with the lease `generation` (one taken, or
        0: given up); the head is read again, since another replica may have written meanwhile."""
        session = self._log(session_id)
        session.generation = generation
        session.head = None

    def abandon(self, session_id: str, generation: int) -> None:
        """The lease of that generation is lost: its events not yet stored are dropped, never written."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.abandoned = max(session.abandoned, generation)
            session.hurry.set()

    async def head(self, session_id: str) -> int:
        """The session's last stored sequence (0 when it has none); NOT_FOUND for an unknown session."""
        session = self._log(session_id)
        # Kept here while this runtime writes the log: always in a single runtime, under a lease in a fleet.
        if session.head is None or (self._bus.shared and not session.generation):
            session.head = (await self.read(session_id, after_sequence=0, limit=1)).last_sequence
        return session.head

    async def read(self, session_id: str, after_sequence: int, limit: int) -> persistence_pb2.ReadEventsResponse:
        return await self._storage.call(
            self._storage.stub.ReadEvents,
            persistence_pb2.ReadEventsRequest(session_id=session_id, after_sequence=after_sequence, limit=limit),
        )

    async def subscribe(self, session_id: str) -> Subscription:
        """Stored events of the session from now on, whichever replica stores them, until unsubscribed or
        overrun."""
        subscription = Subscription(self._max_subscriber_lag)
        session = self._log(session_id)
        session.subscribers.add(subscription)
        if self._shutting_down:
            subscription.end_for_shutdown()
        if len(session.subscribers) == 1:
            await self._bus.follow_events(session_id)
        return subscription

    def published(self, session_id: str, events: Sequence[events_pb2.SessionEvent], head: int) -> None:
        """Events another replica stored (none: its head moved past what a message could carry)."""
        session = self._sessions.get(session_id)
        for subscription in list(session.subscribers) if session is not None else ():
            if events:
                subscription.deliver(events)
            else:
                subscription.check_storage()

    def check_storage(self) -> None:
        """Every subscriber looks in storage for what it may have missed (the bus was down)."""
        for session in self._sessions.values():
            for subscription in session.subscribers:
                subscription.check_storage()

    def end_subscriptions(self) -> None:
        """The runtime is stopping: every subscription, and every one taken from now on, ends, so no
        stream holds the shutdown up."""
        self._shutting_down = True
        for session in self._sessions.values():
            for subscription in session.subscribers:
                subscription.end_for_shutdown()

    def unsubscribe(self, session_id: str, subscription: Subscription) -> None:
        session = self._sessions.get(session_id)
        if session is not None and subscription in session.subscribers:
            session.subscribers.discard(subscription)
            if not session.subscribers:
                self._bus.unfollow_events(session_id)

    async def _write(self, session_id: str, session: _SessionLog) -> None:
        loop = asyncio.get_running_loop()
        while session.pending:
            too_soon = session.budget.wait_seconds(loop.time())
            if too_soon > 0 and len(session.pending) < MAX_BATCH:  # unless someone waits for it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(session.hurry.wait(), too_soon)
            session.hurry.clear()
            session.budget.spend(loop.time())
            run = session.runs[0]
            generation = run[0]
            taken = session.pending[: min(MAX_BATCH, run[1])]
            stored = await self._store(session_id, session, taken, generation)
            del session.pending[: len(taken)]
            run[1] -= len(taken)
            if not run[1]:
                session.runs.popleft()
            if stored is None:
                session.refuse_next(len(taken))
                stored = []
            self._resolve_withdrawn(session, taken, stored)
            for subscription in list(session.subscribers) if stored else ():
                subscription.deliver(stored)
            if stored:
                self._bus.publish_events(session_id, stored, stored[-1].sequence)
            session.advance(len(taken))

    @staticmethod
    def _resolve_withdrawn(
        session: _SessionLog, taken: Sequence[events_pb2.SessionEvent], stored: Sequence[events_pb2.SessionEvent]
    ) -> None:
        """Tells the callers who withdrew any of the taken events whether storage took it after all."""
        for event, fate in [w for w in session.withdrawn if any(w[0] is e for e in taken)]:
            session.withdrawn.remove((event, fate))
            fate.set_result(any(event is e for e in stored))

    async def _store(
        self, session_id: str, session: _SessionLog, taken: list[events_pb2.SessionEvent], generation: int
    ) -> list[events_pb2.SessionEvent] | None:
        """Writes the events not withdrawn, numbered after the stored head, and returns what was stored;
        waits out storage outages. Nothing is stored for a session no longer in storage (nobody sees it),
        nor for a generation storage refuses (None: the lease is lost)."""
        unanswered: list[_Attempt] = []  # writes whose answer was lost or refused: one of them may be stored
        attempt = functools.partial(self._attempt, session_id, session, taken, generation, unanswered)
        while True:
            try:
                return await until_stored("events", attempt)
            except ApiError as error:
                if error.reason == LEASE_LOST:
                    log.warning("dropping %d events of %s: its lease is lost", len(taken), session_id)
                    if self._lease_lost is not None and generation > session.abandoned:
                        self._lease_lost(session_id)
                    return None
                if error.code == grpc.StatusCode.ABORTED:
                    landed = await self._landed(session_id, unanswered)
                    if landed is not None:  # numbered as then, whatever later attempts made of them
                        for event, copy in zip(landed.events, landed.copies, strict=True):
                            event.sequence = copy.sequence
                        session.head = landed.copies[-1].sequence
                        return landed.events
                    session.head = None  # someone else wrote: renumber after the real head (nobody saw these)
                elif error.code == grpc.StatusCode.NOT_FOUND:
                    log.warning("dropping %d events of deleted session %s", len(taken), session_id)
                    return []
                else:  # storage refused them for a reason of its own: keep them, say so, try again
                    log.error("storage refused %d events of %s: %s", len(taken), session_id, error.message)
                    await asyncio.sleep(1.0)

    async def _attempt(
        self,
        session_id: str,
        session: _SessionLog,
        taken: list[events_pb2.SessionEvent],
        generation: int,
        unanswered: list[_Attempt],
    ) -> list[events_pb2.SessionEvent]:
        """One write of the taken events that are not withdrawn (by now); returns them."""
        if generation and generation <= session.abandoned:
            raise leases.lease_lost(session_id, generation, session.abandoned)  # their owner's time is over
        batch = [e for e in taken if not any(e is w for w, _ in session.withdrawn)]
        if batch:
            await self._append(session_id, session, batch, generation, unanswered)
        return batch

    async def _landed(self, session_id: str, attempts: list[_Attempt]) -> _Attempt | None:
        """The attempt that storage holds at its numbers, if one does: a lost answer, not a lost write."""
        for attempt in attempts:
            after = attempt.copies[0].sequence - 1
            read = functools.partial(self.read, session_id, after, len(attempt.copies))
            stored = await until_stored("events", read)
            if list(stored.events) == attempt.copies:
                return attempt
        return None

    async def _append(
        self,
        session_id: str,
        session: _SessionLog,
        batch: list[events_pb2.SessionEvent],
        generation: int,
        unanswered: list[_Attempt],
    ) -> None:
        head = await self.head(session_id)
        for offset, event in enumerate(batch, start=1):
            event.sequence = head + offset
        request = persistence_pb2.AppendEventsRequest(
            session_id=session_id, expected_last_sequence=head, events=batch, lease_generation=generation
        )
        self.storage_writes += 1
        try:
            reply = await self._storage.call(self._storage.stub.AppendEvents, request)
        except ApiError as error:
            # Either may hide a stored batch: UNAVAILABLE after storage committed, and ABORTED when gRPC's
            # own retry of such an attempt found the head already moved.
            if error.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED):
                unanswered.append(_Attempt(list(batch), [_copy(e) for e in batch]))
            raise
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


def _copy(event: events_pb2.SessionEvent) -> events_pb2.SessionEvent:
    copy = events_pb2.SessionEvent()
    copy.CopyFrom(event)
    return copy
