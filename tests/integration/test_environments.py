"""Environments created, listed, changed, archived and deleted through the API, and the sessions made in
them: each keeps its environment's settings as they were when it was created."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import environment_pb2, profile_pb2, session_pb2
from tests.integration.conftest import AUTH, rpc_error
from tests.support.rpc import assert_error, field_violations

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub


async def create(stub: Stub, name: str = "Data", **fields: object) -> environment_pb2.Environment:
    environment = environment_pb2.Environment(name=name, **fields)  # type: ignore[arg-type]
    return await stub.CreateEnvironment(api.CreateEnvironmentRequest(environment=environment), metadata=AUTH)


async def get(stub: Stub, environment_id: str) -> environment_pb2.Environment:
    return await stub.GetEnvironment(api.GetEnvironmentRequest(environment_id=environment_id), metadata=AUTH)


async def session_in(stub: Stub, environment_id: str) -> session_pb2.Session:
    return await stub.CreateSession(
        api.CreateSessionRequest(
            agent_profile_ref="default", architecture="claude-agent-sdk", environment_id=environment_id
        ),
        metadata=AUTH,
    )


async def test_an_environment_is_stored_with_an_id_of_its_own(stub: Stub) -> None:
    made = await create(
        stub,
        pip_packages=["pandas"],
        network=profile_pb2.NetworkPolicy(allowed_hosts=["pypi.org"]),
        metadata={"team": "research"},
    )

    assert made.environment_id.startswith("env_") and len(made.environment_id) == 28
    assert made.HasField("created_at") and not made.HasField("archived_at")
    assert await get(stub, made.environment_id) == made


async def test_environments_are_listed_newest_first_a_page_at_a_time(stub: Stub) -> None:
    made = [await create(stub, name=f"listed {n}") for n in range(3)]
    found, token = [], ""
    while True:
        page = await stub.ListEnvironments(api.ListEnvironmentsRequest(page_size=2, page_token=token), metadata=AUTH)
        found += [environment.environment_id for environment in page.environments]
        if not page.next_page_token:
            break
        token = page.next_page_token

    ours = [environment_id for environment_id in found if environment_id in {m.environment_id for m in made}]
    assert ours == [m.environment_id for m in reversed(made)]
    assert len(found) == len(set(found)), "no environment is listed twice"


async def test_an_update_changes_the_masked_fields_only(stub: Stub) -> None:
    made = await create(stub, pip_packages=["pandas"], description="before")

    updated = await stub.UpdateEnvironment(
        api.UpdateEnvironmentRequest(
            environment=environment_pb2.Environment(environment_id=made.environment_id, pip_packages=["numpy"]),
            update_mask=field_mask_pb2.FieldMask(paths=["pip_packages"]),
        ),
        metadata=AUTH,
    )

    assert (list(updated.pip_packages), updated.description, updated.name) == (["numpy"], "before", "Data")
    assert updated.updated_at.ToMicroseconds() > made.updated_at.ToMicroseconds()


async def test_a_session_keeps_its_environment_as_it_was(stub: Stub) -> None:
    made = await create(stub, network=profile_pb2.NetworkPolicy(allowed_hosts=["example.org"]))
    session = await session_in(stub, made.environment_id)

    await stub.DeleteEnvironment(api.DeleteEnvironmentRequest(environment_id=made.environment_id), metadata=AUTH)

    seen = await stub.GetSession(api.GetSessionRequest(session_id=session.session_id), metadata=AUTH)
    assert seen.environment_id == made.environment_id
    assert_error(await rpc_error(get(stub, made.environment_id)), grpc.StatusCode.NOT_FOUND, "ENVIRONMENT_NOT_FOUND")


async def test_an_archived_environment_starts_no_session(stub: Stub) -> None:
    made = await create(stub)

    archived = await stub.ArchiveEnvironment(
        api.ArchiveEnvironmentRequest(environment_id=made.environment_id), metadata=AUTH
    )

    assert archived.HasField("archived_at")
    error = await rpc_error(session_in(stub, made.environment_id))
    assert_error(error, grpc.StatusCode.FAILED_PRECONDITION, "ENVIRONMENT_ARCHIVED")
    listed = await stub.ListEnvironments(api.ListEnvironmentsRequest(page_size=100), metadata=AUTH)
    assert made.environment_id not in [environment.environment_id for environment in listed.environments]


async def test_an_environment_for_another_sandbox_provider_starts_no_session_here(stub: Stub) -> None:
    made = await create(stub, sandbox_provider="modal")

    error = await rpc_error(session_in(stub, made.environment_id))

    assert_error(error, grpc.StatusCode.FAILED_PRECONDITION, "SANDBOX_PROVIDER_UNAVAILABLE")


async def test_packages_are_refused_by_sandboxes_that_do_not_install_them(stub: Stub) -> None:
    made = await create(stub, npm_packages=["left-pad"])

    error = await rpc_error(session_in(stub, made.environment_id))

    assert_error(error, grpc.StatusCode.FAILED_PRECONDITION, "PACKAGES_NOT_INSTALLED")
    assert "modal" in (error.details() or "")


async def test_a_bad_environment_is_refused_naming_each_field(stub: Stub) -> None:
    error = await rpc_error(
        create(stub, name="", sandbox_provider="docker", npm_packages=["--registry=https://elsewhere.example"])
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"environment.name", "environment.sandbox_provider", "environment.npm_packages[0]"} <= set(
        field_violations(error)
    )


async def test_an_unknown_or_malformed_environment_is_refused(stub: Stub) -> None:
    unknown = await rpc_error(session_in(stub, "env_" + "0" * 24))
    malformed = await rpc_error(session_in(stub, "prod"))

    assert_error(unknown, grpc.StatusCode.NOT_FOUND, "ENVIRONMENT_NOT_FOUND")
    assert_error(malformed, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ENVIRONMENT_ID")
