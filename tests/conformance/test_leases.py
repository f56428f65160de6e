"""Session leases and the writes they fence: one holder at a time, generations that only grow, and a write
with a stale generation refused whole, whichever write it is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import grpc
from google.protobuf import duration_pb2, field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import workspace_pb2
from tests.conformance.helpers import create_session, expect_error, read_all_events, stored_files, text_events
from tests.support.rpc import error_info, field_violations

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

TTL = duration_pb2.Duration(seconds=30)
SHORT_TTL = duration_pb2.Duration(nanos=300_000_000)


async def acquire(storage: Storage, session_id: str, replica: str, ttl: duration_pb2.Duration = TTL) -> pb.SessionLease:
    return await storage.AcquireSessionLease(
        pb.AcquireSessionLeaseRequest(session_id=session_id, replica_id=replica, address=f"{replica}:50051", ttl=ttl)
    )


async def expired(storage: Storage, lease: pb.SessionLease) -> None:
    """Waits out a short lease (storage shares this machine's clock), and storage says it is over."""
    await asyncio.sleep(SHORT_TTL.ToNanoseconds() / 1e9 + 0.1)
    assert not (await storage.GetSessionLease(pb.GetSessionLeaseRequest(session_id=lease.session_id))).held


async def test_a_session_never_leased_has_generation_0(storage: Storage) -> None:
    record = await create_session(storage)
    lease = await storage.GetSessionLease(pb.GetSessionLeaseRequest(session_id=record.session_id))
    assert (lease.session_id, lease.replica_id, lease.generation, lease.held) == (record.session_id, "", 0, False)


async def test_one_replica_holds_a_lease_until_it_releases_it(storage: Storage) -> None:
    record = await create_session(storage)
    first = await acquire(storage, record.session_id, "r1")
    assert (first.replica_id, first.address, first.generation, first.held) == ("r1", "r1:50051", 1, True)
    assert first.expires_at.ToSeconds() > 0

    again = await acquire(storage, record.session_id, "r1")
    assert again.generation == 1, "the holder acquiring again renews its own lease"
    refused = await expect_error(
        acquire(storage, record.session_id, "r2"), grpc.StatusCode.FAILED_PRECONDITION, "LEASE_HELD"
    )
    assert error_info(refused).metadata["replica_id"] == "r1"
    assert error_info(refused).metadata["address"] == "r1:50051"

    released = await storage.ReleaseSessionLease(
        pb.ReleaseSessionLeaseRequest(session_id=record.session_id, replica_id="r1", generation=1)
    )
    assert released.released
    taken = await acquire(storage, record.session_id, "r2")
    assert (taken.replica_id, taken.generation) == ("r2", 2), "a new holder gets a greater generation"
    stale = await storage.ReleaseSessionLease(
        pb.ReleaseSessionLeaseRequest(session_id=record.session_id, replica_id="r1", generation=1)
    )
    assert not stale.released, "a lease that is not the caller's any more is left alone"
    assert (await storage.GetSessionLease(pb.GetSessionLeaseRequest(session_id=record.session_id))).held


async def test_an_expired_lease_is_taken_with_a_greater_generation_and_the_old_holder_cannot_renew(
    storage: Storage,
) -> None:
    record = await create_session(storage)
    first = await acquire(storage, record.session_id, "r1", SHORT_TTL)
    await expired(storage, first)
    taken = await acquire(storage, record.session_id, "r2")
    assert (taken.replica_id, taken.generation) == ("r2", 2)

    renew = pb.RenewSessionLeaseRequest(session_id=record.session_id, replica_id="r1", generation=1, ttl=TTL)
    await expect_error(storage.RenewSessionLease(renew), grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST")
    renewed = await storage.RenewSessionLease(
        pb.RenewSessionLeaseRequest(session_id=record.session_id, replica_id="r2", generation=2, ttl=TTL)
    )
    assert renewed.held and renewed.expires_at.ToMicroseconds() >= taken.expires_at.ToMicroseconds()


async def test_an_expired_lease_nobody_took_is_renewed_by_its_holder(storage: Storage) -> None:
    record = await create_session(storage)
    first = await acquire(storage, record.session_id, "r1", SHORT_TTL)
    await expired(storage, first)
    renewed = await storage.RenewSessionLease(
        pb.RenewSessionLeaseRequest(session_id=record.session_id, replica_id="r1", generation=1, ttl=TTL)
    )
    assert (renewed.generation, renewed.held) == (1, True)


async def test_replicas_racing_for_a_lease_get_one_holder(storage: Storage) -> None:
    record = await create_session(storage)
    replicas = [f"r{n}" for n in range(8)]
    outcomes = await asyncio.gather(*(acquire(storage, record.session_id, r) for r in replicas), return_exceptions=True)
    holders = [lease for lease in outcomes if isinstance(lease, pb.SessionLease)]
    assert len(holders) == 1 and holders[0].generation == 1
    refusals = [outcome for outcome in outcomes if not isinstance(outcome, pb.SessionLease)]
    assert all(isinstance(e, grpc.aio.AioRpcError) and error_info(e).reason == "LEASE_HELD" for e in refusals), refusals


Write = Callable[[int], Awaitable[object]]


def fenced_writes(storage: Storage, session_id: str) -> dict[str, Write]:
    """Each write the runtime makes for a session, fenced with a given generation."""
    file = workspace_pb2.WorkspaceFile(path="fenced.txt", content=b"from a fenced writer")

    def append(fence: int) -> Awaitable[object]:
        return storage.AppendEvents(
            pb.AppendEventsRequest(
                session_id=session_id,
                expected_last_sequence=0,
                events=text_events(session_id, 1, 1),
                lease_generation=fence,
            )
        )

    return {
        "AppendEvents": append,
        "UpdateSessionRecord": lambda fence: storage.UpdateSessionRecord(
            pb.UpdateSessionRecordRequest(
                session_id=session_id,
                session=pb.SessionRecord(name="fenced"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
                lease_generation=fence,
            )
        ),
        "SaveTranscript": lambda fence: storage.SaveTranscript(
            pb.SaveTranscriptRequest(session_id=session_id, raw_transcript="fenced", lease_generation=fence)
        ),
        "SaveWorkspaceFile": lambda fence: storage.SaveWorkspaceFile(
            pb.SaveWorkspaceFileRequest(session_id=session_id, file=file, lease_generation=fence)
        ),
        "ChangeSessionFiles": lambda fence: storage.ChangeSessionFiles(
            pb.ChangeSessionFilesRequest(session_id=session_id, saved=[file], lease_generation=fence)
        ),
        "DeleteSessionFile": lambda fence: storage.DeleteSessionFile(
            pb.DeleteSessionFileRequest(session_id=session_id, path="kept.txt", lease_generation=fence)
        ),
    }


async def test_a_write_with_a_stale_generation_changes_nothing(storage: Storage) -> None:
    kept = workspace_pb2.WorkspaceFile(path="kept.txt", content=b"kept")
    record = await create_session(storage, files=[kept])
    session_id = record.session_id
    first = await acquire(storage, session_id, "r1", SHORT_TTL)
    await expired(storage, first)
    await acquire(storage, session_id, "r2")  # generation 2 now

    for name, write in fenced_writes(storage, session_id).items():
        refused = await expect_error(write(1), grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST")
        assert error_info(refused).metadata["generation"] == "2", name
    for write in fenced_writes(storage, session_id).values():
        await expect_error(write(3), grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST")  # no such generation yet

    loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=session_id))
    assert loaded.session == record and loaded.raw_transcript == ""
    assert list(await stored_files(storage, session_id)) == ["kept.txt"]
    assert await read_all_events(storage, session_id) == []


async def test_the_holders_writes_land_and_unfenced_writes_are_not_judged(storage: Storage) -> None:
    record = await create_session(storage, files=[workspace_pb2.WorkspaceFile(path="kept.txt", content=b"kept")])
    lease = await acquire(storage, record.session_id, "r1")
    for write in fenced_writes(storage, record.session_id).values():
        await write(lease.generation)
    assert len(await read_all_events(storage, record.session_id)) == 1
    assert (await storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=record.session_id))).name == "fenced"

    await storage.SaveTranscript(pb.SaveTranscriptRequest(session_id=record.session_id, raw_transcript="unfenced"))
    loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=record.session_id))
    assert loaded.raw_transcript == "unfenced", "generation 0: a single runtime, which takes no leases"


async def test_bad_lease_requests_are_refused_by_field(storage: Storage) -> None:
    record = await create_session(storage)
    for request, field in (
        (pb.AcquireSessionLeaseRequest(session_id=record.session_id, replica_id="r1"), "ttl"),
        (
            pb.AcquireSessionLeaseRequest(
                session_id=record.session_id, replica_id="r1", ttl=duration_pb2.Duration(seconds=3601)
            ),
            "ttl",
        ),
        (pb.AcquireSessionLeaseRequest(session_id=record.session_id, ttl=TTL), "replica_id"),
        (pb.AcquireSessionLeaseRequest(session_id=record.session_id, replica_id="r" * 129, ttl=TTL), "replica_id"),
    ):
        refused = await expect_error(storage.AcquireSessionLease(request), grpc.StatusCode.INVALID_ARGUMENT)
        assert list(field_violations(refused)) == [field]
    await expect_error(acquire(storage, "no-such-session", "r1"), grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")
    lease = await storage.GetSessionLease(pb.GetSessionLeaseRequest(session_id=record.session_id))
    assert lease.generation == 0, "nothing was leased"


async def test_a_lease_goes_with_its_session(storage: Storage) -> None:
    record = await create_session(storage)
    await acquire(storage, record.session_id, "r1")
    await storage.DeleteSessionRecord(pb.DeleteSessionRecordRequest(session_id=record.session_id))
    await expect_error(
        storage.GetSessionLease(pb.GetSessionLeaseRequest(session_id=record.session_id)),
        grpc.StatusCode.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


async def lapsed_ids(storage: Storage, page_size: int = 0) -> list[str]:
    """The session id of every lapsed lease, walking the listing a page at a time."""
    found: list[str] = []
    token = ""
    while True:
        page = await storage.ListLapsedSessionLeases(
            pb.ListLapsedSessionLeasesRequest(page_size=page_size, page_token=token)
        )
        assert all(not lease.held and not lease.released and lease.generation > 0 for lease in page.leases)
        found.extend(lease.session_id for lease in page.leases)
        token = page.next_page_token
        if not token:
            return found


async def test_a_lease_left_to_expire_is_lapsed_and_a_released_or_held_one_is_not(storage: Storage) -> None:
    left, released, held, never = [(await create_session(storage)).session_id for _ in range(4)]
    await acquire(storage, left, "r1", SHORT_TTL)
    dropped = await acquire(storage, released, "r1", SHORT_TTL)
    await storage.ReleaseSessionLease(pb.ReleaseSessionLeaseRequest(session_id=released, replica_id="r1", generation=1))
    await acquire(storage, held, "r1")
    await expired(storage, dropped)

    ours = {left, released, held, never}
    assert [s for s in await lapsed_ids(storage) if s in ours] == [left]
    page = await storage.ListLapsedSessionLeases(pb.ListLapsedSessionLeasesRequest(page_size=1000))
    (lapsed,) = [lease for lease in page.leases if lease.session_id == left]
    assert (lapsed.replica_id, lapsed.address, lapsed.generation, lapsed.held) == ("r1", "r1:50051", 1, False)
    shown = await storage.GetSessionLease(pb.GetSessionLeaseRequest(session_id=released))
    assert (shown.released, shown.held) == (True, False)

    taken = await acquire(storage, left, "r2")
    assert (taken.generation, taken.released) == (2, False)
    again = await acquire(storage, released, "r2")
    assert (again.generation, again.released) == (2, False), "a new holder clears released"
    assert not ours & set(await lapsed_ids(storage)), "a lease taken again is not lapsed"


async def test_lapsed_leases_are_listed_a_page_at_a_time_in_session_order(storage: Storage) -> None:
    ours = sorted([(await create_session(storage)).session_id for _ in range(5)])
    leases = [await acquire(storage, session_id, "r1", SHORT_TTL) for session_id in ours]
    await expired(storage, leases[-1])
    listed = await lapsed_ids(storage, page_size=2)
    assert listed == sorted(listed), "in session id order"
    assert [s for s in listed if s in ours] == ours, "each lapsed lease once"

    await expect_error(
        storage.ListLapsedSessionLeases(pb.ListLapsedSessionLeasesRequest(page_token="not-a-token")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )
    refused = await expect_error(
        storage.ListLapsedSessionLeases(pb.ListLapsedSessionLeasesRequest(page_size=-1)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_SIZE",
    )
    assert list(field_violations(refused)) == ["page_size"]
