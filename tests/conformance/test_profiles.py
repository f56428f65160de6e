"""ListAgentProfiles and LoadAgentProfile of the built-in profiles (test_stored_profiles: the stored ones)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import profile_pb2
from tests.conformance.helpers import EPOCH_2026, KnownProfiles, expect_error, timestamp

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage


def need_known_ids(known: KnownProfiles) -> None:
    if not known.ids:
        pytest.skip("no profile known on the external server: give one with --storage-profile-id")


def need_exact(known: KnownProfiles) -> dict[str, profile_pb2.AgentProfile]:
    if known.exact is None:
        pytest.skip("the external server's profile contents are not known to the suite")
    return known.exact


async def summaries(storage: Storage) -> dict[str, profile_pb2.AgentProfileSummary]:
    listed = (await storage.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest())).profiles
    by_id = {summary.id: summary for summary in listed}
    assert len(by_id) == len(listed), "an id is listed more than once"
    return by_id


async def test_the_list_names_every_known_profile_as_it_loads(storage: Storage, known_profiles: KnownProfiles) -> None:
    need_known_ids(known_profiles)

    listed = await summaries(storage)

    for profile_id in known_profiles.ids:
        assert profile_id in listed
        profile = await storage.LoadAgentProfile(pb.LoadAgentProfileRequest(agent_profile_id=profile_id))
        assert profile.id == profile_id
        assert listed[profile_id] == profile_pb2.AgentProfileSummary(
            id=profile.id,
            name=profile.name,
            description=profile.description,
            version=profile.version,
            built_in=profile.built_in,
            archived_at=profile.archived_at if profile.HasField("archived_at") else None,
        )


async def test_the_list_holds_exactly_the_profiles_there_are(storage: Storage, known_profiles: KnownProfiles) -> None:
    exact = need_exact(known_profiles)

    listed = await summaries(storage)

    # Other tests store profiles of their own: the built-in ones are exactly the directory's.
    assert sorted(profile_id for profile_id, summary in listed.items() if summary.built_in) == sorted(exact)


async def test_a_profile_loads_in_full(storage: Storage, known_profiles: KnownProfiles) -> None:
    exact = need_exact(known_profiles)

    for profile_id, expected in exact.items():
        assert await storage.LoadAgentProfile(pb.LoadAgentProfileRequest(agent_profile_id=profile_id)) == expected
        assert await storage.LoadAgentProfile(pb.LoadAgentProfileRequest(agent_profile_id=profile_id, version=1)) == (
            expected
        )


async def test_a_built_in_profile_has_only_its_first_version(storage: Storage, known_profiles: KnownProfiles) -> None:
    exact = need_exact(known_profiles)

    for profile_id, expected in exact.items():
        await expect_error(
            storage.LoadAgentProfile(pb.LoadAgentProfileRequest(agent_profile_id=profile_id, version=2)),
            grpc.StatusCode.NOT_FOUND,
            "PROFILE_VERSION_NOT_FOUND",
        )
        listed = await storage.ListAgentProfileVersions(
            profile_pb2.ListAgentProfileVersionsRequest(agent_profile_id=profile_id)
        )
        assert list(listed.versions) == [expected]


async def test_a_built_in_profile_cannot_be_changed_or_archived(
    storage: Storage, known_profiles: KnownProfiles
) -> None:
    exact = need_exact(known_profiles)
    profile_id, expected = next(iter(exact.items()))
    changed = profile_pb2.AgentProfile()
    changed.CopyFrom(expected)
    changed.system_prompt = "Something else."

    for version, code, reason in [
        (1, grpc.StatusCode.ALREADY_EXISTS, "PROFILE_ALREADY_EXISTS"),
        (2, grpc.StatusCode.FAILED_PRECONDITION, "PROFILE_READ_ONLY"),
    ]:
        changed.version = version
        await expect_error(storage.SaveAgentProfile(pb.SaveAgentProfileRequest(profile=changed)), code, reason)
    await expect_error(
        storage.MarkAgentProfileArchived(
            pb.MarkAgentProfileArchivedRequest(agent_profile_id=profile_id, archived_at=timestamp(EPOCH_2026))
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PROFILE_READ_ONLY",
    )

    assert await storage.LoadAgentProfile(pb.LoadAgentProfileRequest(agent_profile_id=profile_id)) == expected


@pytest.mark.parametrize("profile_id", ["no-such-profile", "reviewer.yaml", "REVIEWER", "x-5d1c0b4e-never-written"])
async def test_an_unknown_profile_is_not_found(storage: Storage, profile_id: str) -> None:
    await expect_error(
        storage.LoadAgentProfile(pb.LoadAgentProfileRequest(agent_profile_id=profile_id)),
        grpc.StatusCode.NOT_FOUND,
        "PROFILE_NOT_FOUND",
    )
