"""CreateEnvironmentRecord, GetEnvironmentRecord, UpdateEnvironmentRecord, ListEnvironmentRecords and
DeleteEnvironmentRecord."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import grpc
from google.protobuf import duration_pb2

from agent_runtime._gen.agentruntime.v1 import environment_pb2, profile_pb2
from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from tests.conformance.helpers import EPOCH_2026, expect_error, timestamp
from tests.support.rpc import field_violations

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage


def full_environment(created_second: int = 0) -> environment_pb2.Environment:
    """An environment with every field set, created `created_second` seconds into 2026."""
    return environment_pb2.Environment(
        environment_id=f"env_{uuid.uuid4().hex[:24]}",
        name="Data science ✎",
        description="pandas, and the package index.",
        sandbox_provider="local",
        pip_packages=["pandas==2.2.3", "numpy"],
        npm_packages=["left-pad"],
        network=profile_pb2.NetworkPolicy(allowed_hosts=["pypi.org", "files.example:8443"]),
        limits=profile_pb2.SandboxLimits(memory_bytes=1 << 30, exec_timeout=duration_pb2.Duration(seconds=90)),
        metadata={"team": "research"},
        created_at=timestamp(EPOCH_2026 + created_second, 17),
        updated_at=timestamp(EPOCH_2026 + created_second, 17),
        archived_at=timestamp(EPOCH_2026 + created_second + 1),
    )


async def create(storage: Storage, environment: environment_pb2.Environment) -> environment_pb2.Environment:
    return await storage.CreateEnvironmentRecord(pb.CreateEnvironmentRecordRequest(environment=environment))


async def get(storage: Storage, environment_id: str) -> environment_pb2.Environment:
    return await storage.GetEnvironmentRecord(pb.GetEnvironmentRecordRequest(environment_id=environment_id))


async def test_an_environment_is_stored_as_given(storage: Storage) -> None:
    environment = full_environment()

    assert await create(storage, environment) == environment

    assert await get(storage, environment.environment_id) == environment


async def test_a_taken_id_stores_nothing(storage: Storage) -> None:
    environment = await create(storage, full_environment())
    other = full_environment()
    other.environment_id = environment.environment_id
    other.name = "lost"

    await expect_error(create(storage, other), grpc.StatusCode.ALREADY_EXISTS, "ENVIRONMENT_ALREADY_EXISTS")

    assert await get(storage, environment.environment_id) == environment


async def test_an_update_replaces_the_whole_environment(storage: Storage) -> None:
    environment = await create(storage, full_environment())
    replacement = environment_pb2.Environment(
        environment_id=environment.environment_id, name="Renamed", created_at=environment.created_at
    )

    answer = await storage.UpdateEnvironmentRecord(pb.UpdateEnvironmentRecordRequest(environment=replacement))

    assert answer == replacement
    assert await get(storage, environment.environment_id) == replacement


async def test_unknown_environments_are_not_found(storage: Storage) -> None:
    unknown = full_environment()

    await expect_error(get(storage, unknown.environment_id), grpc.StatusCode.NOT_FOUND, "ENVIRONMENT_NOT_FOUND")
    await expect_error(
        storage.UpdateEnvironmentRecord(pb.UpdateEnvironmentRecordRequest(environment=unknown)),
        grpc.StatusCode.NOT_FOUND,
        "ENVIRONMENT_NOT_FOUND",
    )
    deleted = await storage.DeleteEnvironmentRecord(
        pb.DeleteEnvironmentRecordRequest(environment_id=unknown.environment_id)
    )
    assert not deleted.deleted


async def test_environments_are_listed_newest_first(storage: Storage) -> None:
    made = [await create(storage, full_environment(created_second=second)) for second in (500_000, 500_002, 500_001)]

    listed = (await storage.ListEnvironmentRecords(pb.ListEnvironmentRecordsRequest())).environments

    ours = [environment.environment_id for environment in listed if environment in made]
    assert ours == [made[1].environment_id, made[2].environment_id, made[0].environment_id]


async def test_a_deleted_environment_is_gone(storage: Storage) -> None:
    environment = await create(storage, full_environment())

    deleted = await storage.DeleteEnvironmentRecord(
        pb.DeleteEnvironmentRecordRequest(environment_id=environment.environment_id)
    )

    assert deleted.deleted
    await expect_error(get(storage, environment.environment_id), grpc.StatusCode.NOT_FOUND, "ENVIRONMENT_NOT_FOUND")
    listed = (await storage.ListEnvironmentRecords(pb.ListEnvironmentRecordsRequest())).environments
    assert environment.environment_id not in [listed_one.environment_id for listed_one in listed]


async def test_an_environment_without_an_id_is_refused(storage: Storage) -> None:
    error = await expect_error(
        create(storage, environment_pb2.Environment(name="nameless")), grpc.StatusCode.INVALID_ARGUMENT
    )

    assert "environment.environment_id" in field_violations(error)
