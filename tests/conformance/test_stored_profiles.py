"""SaveAgentProfile, LoadAgentProfile by version, ListAgentProfileVersions and MarkAgentProfileArchived."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import permissions_pb2, profile_pb2, workspace_pb2
from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from tests.conformance.helpers import EPOCH_2026, expect_error, timestamp
from tests.support.rpc import field_violations

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage


def new_profile_id() -> str:
    return f"conformance-{uuid.uuid4()}"


def version_of(profile_id: str, version: int, prompt: str = "") -> profile_pb2.AgentProfile:
    """A profile with most fields set, as the runtime stores it: its times chosen by the caller."""
    return profile_pb2.AgentProfile(
        id=profile_id,
        name="Stored ✎",
        description="Stored through the API.",
        system_prompt=prompt or f"Version {version}: be brief — 日本語.",
        tools=["Read", "Write"],
        model="claude-sonnet-4-5",
        metadata={"team": "core", "tier": "gold"},
        default_workspace_files=[workspace_pb2.WorkspaceFile(path="a.bin", content=b"\x00\xff")],
        client_tools=[permissions_pb2.ClientTool(name="get_weather", description="The weather in a city.")],
        version=version,
        created_at=timestamp(EPOCH_2026, 1),
        updated_at=timestamp(EPOCH_2026 + version, version),
    )


async def save(storage: Storage, profile: profile_pb2.AgentProfile) -> profile_pb2.AgentProfile:
    return await storage.SaveAgentProfile(pb.SaveAgentProfileRequest(profile=profile))


async def load(storage: Storage, profile_id: str, version: int = 0) -> profile_pb2.AgentProfile:
    return await storage.LoadAgentProfile(pb.LoadAgentProfileRequest(agent_profile_id=profile_id, version=version))


async def stored_versions(storage: Storage, profile_id: str, page_size: int = 0) -> list[int]:
    found, token = [], ""
    while True:
        page = await storage.ListAgentProfileVersions(
            profile_pb2.ListAgentProfileVersionsRequest(
                agent_profile_id=profile_id, page_size=page_size, page_token=token
            )
        )
        found += [version.version for version in page.versions]
        if not page.next_page_token:
            return found
        token = page.next_page_token


async def test_each_version_is_kept_and_loads_as_saved(storage: Storage) -> None:
    profile_id = new_profile_id()
    first, second = version_of(profile_id, 1), version_of(profile_id, 2)

    assert await save(storage, first) == first
    assert await save(storage, second) == second

    assert await load(storage, profile_id) == second, "the latest loads when no version is asked"
    assert await load(storage, profile_id, 1) == first
    assert await load(storage, profile_id, 2) == second


async def test_versions_are_listed_newest_first_a_page_at_a_time(storage: Storage) -> None:
    profile_id = new_profile_id()
    for version in range(1, 6):
        await save(storage, version_of(profile_id, version))

    assert await stored_versions(storage, profile_id, page_size=2) == [5, 4, 3, 2, 1]
    assert await stored_versions(storage, profile_id) == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("version", [4, 2, 1])  # skips one, is taken, is the first
async def test_a_version_that_does_not_follow_the_latest_stores_nothing(storage: Storage, version: int) -> None:
    profile_id = new_profile_id()
    await save(storage, version_of(profile_id, 1))
    await save(storage, version_of(profile_id, 2))

    code, reason = (
        (grpc.StatusCode.ALREADY_EXISTS, "PROFILE_ALREADY_EXISTS")
        if version == 1
        else (grpc.StatusCode.ABORTED, "VERSION_MISMATCH")
    )
    await expect_error(save(storage, version_of(profile_id, version, prompt="lost")), code, reason)

    assert await stored_versions(storage, profile_id) == [2, 1]
    assert (await load(storage, profile_id, 1)).system_prompt != "lost"


async def test_the_latest_version_saved_again_as_stored_is_a_retry_not_a_conflict(storage: Storage) -> None:
    profile_id = new_profile_id()
    await save(storage, version_of(profile_id, 1))
    latest = await save(storage, version_of(profile_id, 2))

    again = await save(storage, version_of(profile_id, 2))

    assert again == latest
    assert await stored_versions(storage, profile_id) == [2, 1]


async def test_of_two_writers_of_the_same_version_one_wins(storage: Storage) -> None:
    profile_id = new_profile_id()
    await save(storage, version_of(profile_id, 1))

    results = await asyncio.gather(
        *(save(storage, version_of(profile_id, 2, prompt=f"writer {n}")) for n in range(4)), return_exceptions=True
    )

    won = [result for result in results if isinstance(result, profile_pb2.AgentProfile)]
    assert len(won) == 1
    for lost in results:
        if not isinstance(lost, profile_pb2.AgentProfile):
            assert isinstance(lost, grpc.aio.AioRpcError) and lost.code() == grpc.StatusCode.ABORTED
    assert await load(storage, profile_id) == won[0]


async def test_a_later_version_of_an_unknown_profile_is_not_found(storage: Storage) -> None:
    await expect_error(save(storage, version_of(new_profile_id(), 2)), grpc.StatusCode.NOT_FOUND, "PROFILE_NOT_FOUND")


async def test_a_version_the_profile_does_not_have_is_not_found(storage: Storage) -> None:
    profile_id = new_profile_id()
    await save(storage, version_of(profile_id, 1))

    await expect_error(load(storage, profile_id, 2), grpc.StatusCode.NOT_FOUND, "PROFILE_VERSION_NOT_FOUND")
    await expect_error(
        storage.ListAgentProfileVersions(
            profile_pb2.ListAgentProfileVersionsRequest(agent_profile_id=new_profile_id())
        ),
        grpc.StatusCode.NOT_FOUND,
        "PROFILE_NOT_FOUND",
    )


async def test_the_list_shows_the_latest_version(storage: Storage) -> None:
    profile_id = new_profile_id()
    await save(storage, version_of(profile_id, 1))
    latest = await save(storage, version_of(profile_id, 2))

    listed = (await storage.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest())).profiles

    assert [summary for summary in listed if summary.id == profile_id] == [
        profile_pb2.AgentProfileSummary(
            id=profile_id, name=latest.name, description=latest.description, version=2, built_in=False
        )
    ]


async def test_an_archived_profile_is_listed_only_when_asked_and_every_version_says_so(storage: Storage) -> None:
    profile_id = new_profile_id()
    await save(storage, version_of(profile_id, 1))
    await save(storage, version_of(profile_id, 2))
    archived_at = timestamp(EPOCH_2026 + 60, 250)

    archived = await storage.MarkAgentProfileArchived(
        pb.MarkAgentProfileArchivedRequest(agent_profile_id=profile_id, archived_at=archived_at)
    )
    again = await storage.MarkAgentProfileArchived(
        pb.MarkAgentProfileArchivedRequest(agent_profile_id=profile_id, archived_at=timestamp(EPOCH_2026 + 999))
    )

    assert (archived.version, archived.archived_at) == (2, archived_at)
    assert again.archived_at == archived_at, "archiving again keeps the first time"
    assert (await load(storage, profile_id, 1)).archived_at == archived_at
    shown = (await storage.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest())).profiles
    assert profile_id not in [summary.id for summary in shown]
    every = (await storage.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest(include_archived=True))).profiles
    assert [summary.archived_at for summary in every if summary.id == profile_id] == [archived_at]


async def test_archiving_an_unknown_profile_is_not_found(storage: Storage) -> None:
    await expect_error(
        storage.MarkAgentProfileArchived(
            pb.MarkAgentProfileArchivedRequest(agent_profile_id=new_profile_id(), archived_at=timestamp(EPOCH_2026))
        ),
        grpc.StatusCode.NOT_FOUND,
        "PROFILE_NOT_FOUND",
    )


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ("save without id", "profile.id"),
        ("save version 0", "profile.version"),
        ("load version -1", "version"),
        ("archive without time", "archived_at"),
    ],
)
async def test_a_bad_request_is_refused_naming_the_field(storage: Storage, call: str, field: str) -> None:
    profile_id = new_profile_id()
    await save(storage, version_of(profile_id, 1))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "save without id": lambda: save(storage, version_of("", 1)),
        "save version 0": lambda: save(storage, version_of(profile_id, 0)),
        "load version -1": lambda: load(storage, profile_id, -1),
        "archive without time": lambda: storage.MarkAgentProfileArchived(
            pb.MarkAgentProfileArchivedRequest(agent_profile_id=profile_id)
        ),
    }

    error = await expect_error(calls[call](), grpc.StatusCode.INVALID_ARGUMENT)

    assert field in field_violations(error)
    assert await stored_versions(storage, profile_id) == [1]
