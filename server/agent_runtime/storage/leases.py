"""What the lease operations of the built-in storage servers decide, apart from how each database keeps a
lease: every store runs one of these on the session's lease and its own clock, in one transaction.

A lease's generation only grows: each new holder gets one more than the last, so a write fenced with an
older generation can be told from the holder's. A session never leased has generation 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf import duration_pb2

from agent_runtime._gen.agentruntime.v1 import persistence_pb2
from agent_runtime.errors import ApiError, FieldViolation, bad_request

MAX_TTL_SECONDS = 3600
MAX_REPLICA_ID_LENGTH = 128
LEASE_HELD = "LEASE_HELD"  # another replica holds the lease: it works for the session
LEASE_LOST = "LEASE_LOST"  # a writer's lease generation is not the session's any more


@dataclass(frozen=True)
class Lease:
    replica_id: str = ""
    address: str = ""
    generation: int = 0
    expires_us: int = 0
    released: bool = False

    def held(self, now_us: int) -> bool:
        return self.generation > 0 and self.expires_us > now_us

    def lapsed(self, now_us: int) -> bool:
        """Whether it expired without being released: its holder stopped renewing it."""
        return self.generation > 0 and not self.released and self.expires_us <= now_us


# What an operation makes of the session's lease at storage's time (µs); the store keeps the result.
LeaseChange = Callable[[Lease, int], Lease]


def acquiring(session_id: str, replica_id: str, address: str, ttl: duration_pb2.Duration) -> LeaseChange:
    ttl_us = _ttl_us(ttl)
    _check_replica_id(replica_id)

    def acquire(lease: Lease, now_us: int) -> Lease:
        if lease.held(now_us) and lease.replica_id != replica_id:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                LEASE_HELD,
                f"session {session_id!r} is leased to replica {lease.replica_id!r} until it renews or expires",
                metadata={
                    "session_id": session_id,
                    "replica_id": lease.replica_id,
                    "address": lease.address,
                    "expires_us": str(lease.expires_us),
                },
            )
        generation = lease.generation if lease.held(now_us) else lease.generation + 1
        return Lease(replica_id, address, generation, now_us + ttl_us, released=False)

    return acquire


def renewing(session_id: str, replica_id: str, generation: int, ttl: duration_pb2.Duration) -> LeaseChange:
    ttl_us = _ttl_us(ttl)
    _check_replica_id(replica_id)

    def renew(lease: Lease, now_us: int) -> Lease:
        if (lease.replica_id, lease.generation) != (replica_id, generation):
            raise lease_lost(session_id, generation, lease.generation)
        return dataclasses.replace(lease, expires_us=now_us + ttl_us, released=False)

    return renew


def releasing(replica_id: str, generation: int) -> LeaseChange:
    def release(lease: Lease, now_us: int) -> Lease:
        if (lease.replica_id, lease.generation) != (replica_id, generation) or not lease.held(now_us):
            return lease
        return dataclasses.replace(lease, expires_us=now_us, released=True)

    return release


def check_fence(session_id: str, generation: int, fence: int) -> None:
    """A write fenced with `fence` (0: not fenced) may land on a session whose lease generation is `generation`."""
    if fence and fence != generation:
        raise lease_lost(session_id, fence, generation)


def lease_lost(session_id: str, given: int, current: int) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        LEASE_LOST,
        f"session {session_id!r}: lease generation {given} is not the session's (it is {current})",
        metadata={"session_id": session_id, "generation": str(current)},
    )


def as_message(session_id: str, lease: Lease, now_us: int) -> persistence_pb2.SessionLease:
    message = persistence_pb2.SessionLease(
        session_id=session_id,
        replica_id=lease.replica_id,
        address=lease.address,
        generation=lease.generation,
        held=lease.held(now_us),
        released=lease.released,
    )
    message.expires_at.FromMicroseconds(lease.expires_us)
    return message


def _ttl_us(ttl: duration_pb2.Duration) -> int:
    ttl_us = ttl.ToMicroseconds()
    if not 0 < ttl_us <= MAX_TTL_SECONDS * 1_000_000:
        raise bad_request([FieldViolation("ttl", f"must be more than 0 and at most {MAX_TTL_SECONDS}s", "INVALID_TTL")])
    return ttl_us


def _check_replica_id(replica_id: str) -> None:
    if not replica_id:
        raise bad_request([FieldViolation("replica_id", "is required", "REQUIRED_FIELD")])
    if len(replica_id) > MAX_REPLICA_ID_LENGTH:
        raise bad_request(
            [FieldViolation("replica_id", f"must be at most {MAX_REPLICA_ID_LENGTH} characters", "FIELD_TOO_LONG")]
        )
