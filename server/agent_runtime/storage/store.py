"""The operations a built-in storage server needs from its database, and the errors they raise."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import grpc

from agent_runtime._gen.agentruntime.v1 import events_pb2, persistence_pb2, workspace_pb2
from agent_runtime.errors import ApiError, not_found
from agent_runtime.storage.catalog import CatalogStore
from agent_runtime.storage.leases import Lease, LeaseChange

POSTGRES_SCHEMES = ("postgres://", "postgresql://")
# A ReadEvents page holds no more than this many bytes of events (unless its first event alone is larger),
# so every page fits a gRPC message however large the log grows.
MAX_EVENT_PAGE_BYTES = 4 * 1024 * 1024


def is_postgres(database: str) -> bool:
    """Whether a database setting is a PostgreSQL URL (rather than a SQLite path or ":memory:")."""
    return database.startswith(POSTGRES_SCHEMES)


def created_micros(record: persistence_pb2.SessionRecord) -> int:
    """The record's creation time as the stores order sessions by it."""
    return record.created_at.seconds * 1_000_000 + record.created_at.nanos // 1000


def content_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stored_file(
    path: str, content: bytes | None, size: int, modified_us: int, sha256: str
) -> workspace_pb2.WorkspaceFile:
    """A file as a store returns it: with its content, or (content None) only its metadata."""
    file = workspace_pb2.WorkspaceFile(path=path, content=content or b"", size=size, sha256=sha256)
    file.modified_time.FromMicroseconds(modified_us)
    return file


def within_page_bytes(sizes: Sequence[int]) -> int:
    """How many of a run of events (by serialized size) fit one ReadEvents page: at least the first."""
    total = 0
    for count, size in enumerate(sizes):
        total += size
        if total > MAX_EVENT_PAGE_BYTES and count > 0:
            return count
    return len(sizes)


@dataclass(frozen=True)
class SessionCursor:
    """Position in the newest-first session order: strictly after this (created_at, session_id)."""

    created_us: int
    session_id: str


class SessionStore(Protocol):
    """Each write takes `fence`, the writer's lease generation (0: not fenced), and refuses it with
    LEASE_LOST unless it is the session's, in the write's own transaction."""

    @property
    def catalog(self) -> CatalogStore: ...

    async def list_sessions(self, limit: int, after: SessionCursor | None) -> list[persistence_pb2.SessionRecord]: ...

    async def get_session(self, session_id: str) -> persistence_pb2.SessionRecord: ...

    async def load_session(self, session_id: str) -> persistence_pb2.LoadSessionResponse: ...

    async def list_files(
        self, session_id: str, limit: int, after_path: str | None
    ) -> list[workspace_pb2.WorkspaceFile]: ...

    async def get_file(self, session_id: str, path: str) -> workspace_pb2.WorkspaceFile: ...

    async def create_session(
        self, record: persistence_pb2.SessionRecord, files: Sequence[workspace_pb2.WorkspaceFile]
    ) -> None: ...

    async def update_session(
        self, session_id: str, change: Callable[[persistence_pb2.SessionRecord], None], fence: int
    ) -> persistence_pb2.SessionRecord: ...

    async def save_transcript(self, session_id: str, subagent_id: str, raw_transcript: str, fence: int) -> None: ...

    async def save_file(
        self, session_id: str, file: workspace_pb2.WorkspaceFile, fence: int
    ) -> workspace_pb2.WorkspaceFile: ...

    async def delete_file(self, session_id: str, path: str, fence: int) -> bool: ...

    async def change_files(
        self, session_id: str, saved: Sequence[workspace_pb2.WorkspaceFile], deleted: Sequence[str], fence: int
    ) -> list[workspace_pb2.WorkspaceFile]:
        """Saves, then deletes, in one transaction; the saved files as stored, without content."""
        ...

    async def append_events(
        self, session_id: str, expected_last_sequence: int, events: Sequence[events_pb2.SessionEvent], fence: int
    ) -> int: ...

    async def get_lease(self, session_id: str) -> tuple[Lease, int]:
        """The session's lease (generation 0 if never leased) and storage's time (µs), read without locking it."""
        ...

    async def change_lease(self, session_id: str, change: LeaseChange) -> tuple[Lease, int]:
        """Runs `change` on the session's lease (generation 0 if never leased) at storage's time (µs), in one
        transaction that keeps what it returns; the lease as kept and that time."""
        ...

    async def lapsed_leases(self, limit: int, after_session_id: str) -> tuple[list[tuple[str, Lease]], int]:
        """The leases that expired unreleased (Lease.lapsed) at storage's time, of sessions after the given id in
        id order, with that time."""
        ...

    async def read_events(
        self, session_id: str, after_sequence: int, limit: int
    ) -> tuple[list[events_pb2.SessionEvent], int]: ...

    async def delete_session(self, session_id: str) -> None: ...

    async def close(self) -> None: ...


def session_not_found(session_id: str) -> ApiError:
    return not_found("SESSION_NOT_FOUND", f"session {session_id!r} does not exist", session_id=session_id)


def stored_file_not_found(session_id: str, path: str) -> ApiError:
    return not_found(
        "FILE_NOT_FOUND", f"file {path!r} is not stored in session {session_id!r}", session_id=session_id, path=path
    )


def session_exists(session_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.ALREADY_EXISTS,
        "SESSION_ALREADY_EXISTS",
        f"session {session_id!r} already exists",
        metadata={"session_id": session_id},
    )


def sequence_mismatch(session_id: str, expected: int, last: int) -> ApiError:
    return ApiError(
        grpc.StatusCode.ABORTED,
        "SEQUENCE_MISMATCH",
        f"session {session_id!r}: expected last sequence {expected}, the log ends at {last}",
        metadata={"last_sequence": str(last)},
    )


def check_event_sequences(
    session_id: str, expected_last_sequence: int, last: int, events: Sequence[events_pb2.SessionEvent]
) -> None:
    """The append must start right after the log's end and number its events densely."""
    if expected_last_sequence != last:
        raise sequence_mismatch(session_id, expected_last_sequence, last)
    for offset, event in enumerate(events, start=1):
        if event.sequence != last + offset:
            raise ApiError(
                grpc.StatusCode.ABORTED,
                "SEQUENCE_MISMATCH",
                f"event {offset} carries sequence {event.sequence}, expected {last + offset}",
                metadata={"last_sequence": str(last)},
            )
