"""Agent profiles created, updated (each update a version), archived through the API, and the sessions
that run them: each keeps the version it started on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import permissions_pb2, profile_pb2, session_pb2
from tests.integration.conftest import AUTH, rpc_error
from tests.support.rpc import assert_error, field_violations

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub


def new_profile(prompt: str = "Be brief.") -> profile_pb2.AgentProfile:
    return profile_pb2.AgentProfile(
        id=f"stored-{uuid.uuid4().hex[:12]}",
        name="Stored",
        system_prompt=prompt,
        tools=["Read", "Write"],
        model="claude-haiku-4-5",
        metadata={"team": "core"},
    )


async def create(stub: Stub, profile: profile_pb2.AgentProfile) -> profile_pb2.AgentProfile:
    return await stub.CreateAgentProfile(api.CreateAgentProfileRequest(profile=profile), metadata=AUTH)


async def update(stub: Stub, profile: profile_pb2.AgentProfile, expected: int = 0) -> profile_pb2.AgentProfile:
    return await stub.UpdateAgentProfile(
        api.UpdateAgentProfileRequest(profile=profile, expected_version=expected), metadata=AUTH
    )


async def get(stub: Stub, profile_id: str, version: int = 0) -> profile_pb2.AgentProfile:
    return await stub.GetAgentProfile(
        api.GetAgentProfileRequest(agent_profile_id=profile_id, version=version), metadata=AUTH
    )


async def new_session(stub: Stub, profile_id: str, version: int = 0) -> session_pb2.Session:
    return await stub.CreateSession(
        api.CreateSessionRequest(
            agent_profile_ref=profile_id, architecture="claude-agent-sdk", agent_profile_version=version
        ),
        metadata=AUTH,
    )


async def test_a_created_profile_is_version_1_and_each_change_adds_one(stub: Stub) -> None:
    first = await create(stub, new_profile())
    changed = profile_pb2.AgentProfile()
    changed.CopyFrom(first)
    changed.system_prompt = "Be thorough."

    second = await update(stub, changed, expected=1)
    unchanged = await update(stub, changed)

    assert (first.version, first.built_in, first.HasField("created_at")) == (1, False, True)
    assert (second.version, second.system_prompt, second.created_at) == (2, "Be thorough.", first.created_at)
    assert unchanged == second, "an update that changes nothing makes no version"
    assert (await get(stub, first.id, 1)).system_prompt == "Be brief."
    assert await get(stub, first.id) == second
    versions = await stub.ListAgentProfileVersions(
        profile_pb2.ListAgentProfileVersionsRequest(agent_profile_id=first.id), metadata=AUTH
    )
    assert [version.version for version in versions.versions] == [2, 1]


async def test_an_update_from_a_stale_version_is_refused_and_changes_nothing(stub: Stub) -> None:
    profile = await create(stub, new_profile())
    await update(stub, new_profile_like(profile, "second"), expected=1)

    error = await rpc_error(update(stub, new_profile_like(profile, "lost"), expected=1))

    assert_error(error, grpc.StatusCode.ABORTED, "VERSION_MISMATCH")
    assert (await get(stub, profile.id)).system_prompt == "second"


def new_profile_like(profile: profile_pb2.AgentProfile, prompt: str) -> profile_pb2.AgentProfile:
    changed = profile_pb2.AgentProfile()
    changed.CopyFrom(profile)
    changed.system_prompt = prompt
    return changed


async def test_a_session_keeps_the_version_it_started_on(stub: Stub) -> None:
    profile = await create(stub, new_profile())
    before = await new_session(stub, profile.id)
    await update(stub, new_profile_like(profile, "newer"))

    after = await new_session(stub, profile.id)
    pinned = await new_session(stub, profile.id, version=1)
    seen = await stub.GetSession(api.GetSessionRequest(session_id=before.session_id), metadata=AUTH)

    assert (before.agent_profile_version, seen.agent_profile_version) == (1, 1)
    assert (after.agent_profile_version, pinned.agent_profile_version) == (2, 1)
    assert before.session_options.model == "claude-haiku-4-5", "the profile's model, as the session did not choose"


async def test_an_archived_profile_starts_no_session_and_is_listed_only_when_asked(stub: Stub) -> None:
    profile = await create(stub, new_profile())
    running = await new_session(stub, profile.id)

    archived = await stub.ArchiveAgentProfile(
        api.ArchiveAgentProfileRequest(agent_profile_id=profile.id), metadata=AUTH
    )

    assert archived.HasField("archived_at")
    assert_error(
        await rpc_error(new_session(stub, profile.id)), grpc.StatusCode.FAILED_PRECONDITION, "PROFILE_ARCHIVED"
    )
    assert_error(
        await rpc_error(update(stub, new_profile_like(profile, "x"))),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PROFILE_ARCHIVED",
    )
    listed = await stub.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest(), metadata=AUTH)
    every = await stub.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest(include_archived=True), metadata=AUTH)
    assert profile.id not in [summary.id for summary in listed.profiles]
    assert profile.id in [summary.id for summary in every.profiles]
    still = await stub.GetSession(api.GetSessionRequest(session_id=running.session_id), metadata=AUTH)
    assert still.agent_profile_ref == profile.id


async def test_a_built_in_profile_is_read_only(stub: Stub) -> None:
    built_in = await get(stub, "default")

    taken = await rpc_error(create(stub, profile_pb2.AgentProfile(id="default", name="Mine")))
    changed = await rpc_error(update(stub, new_profile_like(built_in, "changed")))
    archived = await rpc_error(
        stub.ArchiveAgentProfile(api.ArchiveAgentProfileRequest(agent_profile_id="default"), metadata=AUTH)
    )

    assert (built_in.built_in, built_in.version) == (True, 1)
    assert_error(taken, grpc.StatusCode.ALREADY_EXISTS, "PROFILE_ALREADY_EXISTS")
    assert_error(changed, grpc.StatusCode.FAILED_PRECONDITION, "PROFILE_READ_ONLY")
    assert_error(archived, grpc.StatusCode.FAILED_PRECONDITION, "PROFILE_READ_ONLY")
    assert await get(stub, "default") == built_in


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: setattr(p, "id", "not an id!"), "profile.id"),
        (
            lambda p: p.pip_dependencies.append("--index-url=https://elsewhere.example/simple"),
            "profile.pip_dependencies[0]",
        ),
        (lambda p: p.bundled_mcp_servers.add(name="local", local_project_path="mcp"), "profile.bundled_mcp_servers"),
        (lambda p: p.network.allowed_hosts.append("a host"), "profile.network.allowed_hosts[0]"),
        (lambda p: p.metadata.update({f"k{n}": "v" for n in range(17)}), "profile.metadata"),
        (lambda p: p.client_tools.add(name="Read"), "profile.client_tools[0].name"),
    ],
)
async def test_a_bad_profile_is_refused_naming_the_field_and_stores_nothing(
    stub: Stub, change: Callable[[profile_pb2.AgentProfile], object], field: str
) -> None:
    profile = new_profile()
    change(profile)

    error = await rpc_error(create(stub, profile))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(error)
    if field != "profile.id":
        assert_error(await rpc_error(get(stub, profile.id)), grpc.StatusCode.NOT_FOUND, "PROFILE_NOT_FOUND")


async def test_a_version_the_profile_does_not_have_is_not_found(stub: Stub) -> None:
    profile = await create(stub, new_profile())

    for call in (get(stub, profile.id, 2), new_session(stub, profile.id, version=2)):
        assert_error(await rpc_error(call), grpc.StatusCode.NOT_FOUND, "PROFILE_VERSION_NOT_FOUND")


async def test_a_profile_with_hundreds_of_faults_gets_a_bounded_answer(stub: Stub) -> None:
    profile = new_profile()
    bad_rules = (permissions_pb2.PermissionRule(rule=f"bad rule {n} " + "x" * 500) for n in range(200))
    profile.permissions.rules.extend(bad_rules)

    error = await rpc_error(create(stub, profile))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, "the status fits the headers it travels in"
    assert len(field_violations(error)) == 20
    assert (error.details() or "").endswith("more")
