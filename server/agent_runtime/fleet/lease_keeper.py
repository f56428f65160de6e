"""The leases a replica holds: one per session loaded here, renewed every third of the lease's time.

A lease that cannot be renewed in time is given up here before storage could give it to another replica:
its deadline is counted from when the last successful renewal was sent, and it is dropped when the next
renewal would come too late. Whoever learns first that the lease is gone (a renewal refused, a write
refused with LEASE_LOST, the deadline) tells `on_lost`, once, and the session's work stops at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import grpc
from google.protobuf import duration_pb2

from agent_runtime._gen.agentruntime.v1 import persistence_pb2
from agent_runtime.errors import ApiError
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.leases import LEASE_LOST

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, storage: StorageClient, replica_id: str, ttl_seconds: float) -> None:
        self._storage = storage
        self.replica_id = replica_id
        self.address = ""  # where this replica serves, once it is bound
        self._ttl = duration_pb2.Duration()
        self._ttl.FromNanoseconds(int(ttl_seconds * 1e9))
        self._ttl_seconds = ttl_seconds
        # Told of each lease lost (the session, the lease's generation): the session's work stops there.
        self.on_lost: Callable[[str, int], None] = lambda session_id, generation: None
        self._held: dict[str, int] = {}  # session id -> generation
        self._deadlines: dict[str, float] = {}  # session id -> when the lease may be gone, by this loop's clock

    @property
    def renew_interval(self) -> float:
        return self._ttl_seconds / 3

    def generation(self, session_id: str) -> int:
        """The generation of the session's lease held here; 0 if none is."""
        return self._held.get(session_id, 0)

    async def lookup(self, session_id: str) -> persistence_pb2.SessionLease:
        """The session's lease as storage has it; NOT_FOUND for an unknown session."""
        request = persistence_pb2.GetSessionLeaseRequest(session_id=session_id)
        return await self._storage.call(self._storage.stub.GetSessionLease, request)

    async def acquire(self, session_id: str) -> int:
        """Takes the session's lease; its generation. FAILED_PRECONDITION LEASE_HELD (naming the holder and
        its address) while another replica holds it."""
        sent = asyncio.get_running_loop().time()
        request = persistence_pb2.AcquireSessionLeaseRequest(
            session_id=session_id, replica_id=self.replica_id, address=self.address, ttl=self._ttl
        )
        lease = await self._storage.call(self._storage.stub.AcquireSessionLease, request)
        self._held[session_id] = lease.generation
        self._deadlines[session_id] = sent + self._ttl_seconds
        return lease.generation

    async def release(self, session_id: str) -> None:
        """Gives the lease up, so another replica may take the session at once; one that cannot be told
        to storage expires instead."""
        generation = self._held.pop(session_id, 0)
        self._deadlines.pop(session_id, None)
        if not generation:
            return
        request = persistence_pb2.ReleaseSessionLeaseRequest(
            session_id=session_id, replica_id=self.replica_id, generation=generation
        )
        try:
            await self._storage.call(self._storage.stub.ReleaseSessionLease, request)
        except ApiError as error:
            log.warning("the lease of %s was not released (%s); it expires instead", session_id, error.message)

    async def hand_over(self, session_id: str) -> None:
        """Gives the lease up as lapsed rather than released: it is renewed to end now, so the replicas that
        look for lapsed leases take the session over even if no word of it reaches them (a stopping replica
        leaving messages to run)."""
        generation = self._held.pop(session_id, 0)
        self._deadlines.pop(session_id, None)
        if not generation:
            return
        now = duration_pb2.Duration(nanos=1000)  # the shortest lease there is
        request = persistence_pb2.RenewSessionLeaseRequest(
            session_id=session_id, replica_id=self.replica_id, generation=generation, ttl=now
        )
        try:
            await self._storage.call(self._storage.stub.RenewSessionLease, request)
        except ApiError as error:
            log.warning("the lease of %s was not handed over (%s); it expires instead", session_id, error.message)

    def refused(self, session_id: str) -> None:
        """Storage refused a write for the session with LEASE_LOST: another replica holds it now."""
        self._lose(session_id, "storage refused a write: another replica holds the session now")

    def _lose(self, session_id: str, why: str) -> None:
        generation = self._held.pop(session_id, None)
        if generation is None:
            return  # told already, or released
        self._deadlines.pop(session_id, None)
        log.warning("session %s: lease lost (%s); its work here stops", session_id, why)
        self.on_lost(session_id, generation)

    async def keep(self) -> None:
        """Renews every lease held here until cancelled."""
        while True:
            await asyncio.sleep(self.renew_interval)
            held = dict(self._held)
            await asyncio.gather(*(self._renew(session_id, generation) for session_id, generation in held.items()))
            next_round = asyncio.get_running_loop().time() + self.renew_interval
            for session_id, deadline in list(self._deadlines.items()):
                if deadline <= next_round:
                    self._lose(session_id, f"it could not be renewed within {self._ttl_seconds:g}s")

    async def _renew(self, session_id: str, generation: int) -> None:
        sent = asyncio.get_running_loop().time()
        request = persistence_pb2.RenewSessionLeaseRequest(
            session_id=session_id, replica_id=self.replica_id, generation=generation, ttl=self._ttl
        )
        try:
            await self._storage.call(self._storage.stub.RenewSessionLease, request)
        except ApiError as error:
            if error.reason == LEASE_LOST or error.code == grpc.StatusCode.NOT_FOUND:
                self._lose(session_id, error.message)
            return  # storage is away: the deadline decides
        if self._held.get(session_id) == generation:
            self._deadlines[session_id] = sent + self._ttl_seconds
