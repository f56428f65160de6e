"""What a built-in storage server keeps besides sessions: stored agent profiles (every version) and
environments, and the errors their operations raise."""

from __future__ import annotations

from typing import Protocol

import grpc

from agent_runtime._gen.agentruntime.v1 import environment_pb2, profile_pb2
from agent_runtime.errors import ApiError, not_found


class CatalogStore(Protocol):
    async def save_profile_version(self, profile: profile_pb2.AgentProfile) -> None:
        """Stores `profile` at profile.version, which must be one more than the latest stored (1: a new id);
        else PROFILE_ALREADY_EXISTS, PROFILE_NOT_FOUND or VERSION_MISMATCH, and nothing is stored."""
        ...

    async def load_profile_version(self, profile_id: str, version: int) -> tuple[profile_pb2.AgentProfile, int] | None:
        """A stored profile's version (0: the latest) and when the profile was archived (µs, 0 if not); None
        for an id never stored. PROFILE_VERSION_NOT_FOUND for a version it does not have."""
        ...

    async def profile_versions(
        self, profile_id: str, limit: int, before_version: int
    ) -> tuple[list[profile_pb2.AgentProfile], int] | None:
        """Up to `limit` versions below `before_version` (0: from the latest), newest first, and the archive
        time (µs, 0 if not); None for an id never stored."""
        ...

    async def latest_profiles(self) -> list[tuple[profile_pb2.AgentProfile, int]]:
        """The latest version of every stored profile, with its archive time (µs, 0 if not)."""
        ...

    async def archive_profile(self, profile_id: str, archived_us: int) -> bool:
        """Sets the archive time unless it is set; False for an id never stored."""
        ...

    async def create_environment(self, environment: environment_pb2.Environment) -> None: ...

    async def get_environment(self, environment_id: str) -> environment_pb2.Environment: ...

    async def replace_environment(self, environment: environment_pb2.Environment) -> None: ...

    async def list_environments(self) -> list[environment_pb2.Environment]:
        """Newest first (created_at, then id, descending)."""
        ...

    async def delete_environment(self, environment_id: str) -> bool: ...


def profile_not_found(profile_id: str) -> ApiError:
    return not_found("PROFILE_NOT_FOUND", f"agent profile {profile_id!r} does not exist", agent_profile_id=profile_id)


def profile_version_not_found(profile_id: str, version: int) -> ApiError:
    return not_found(
        "PROFILE_VERSION_NOT_FOUND",
        f"agent profile {profile_id!r} has no version {version}",
        agent_profile_id=profile_id,
        version=str(version),
    )


def profile_exists(profile_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.ALREADY_EXISTS,
        "PROFILE_ALREADY_EXISTS",
        f"agent profile {profile_id!r} already exists",
        metadata={"agent_profile_id": profile_id},
    )


def profile_read_only(profile_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "PROFILE_READ_ONLY",
        f"agent profile {profile_id!r} is built in (from the profiles directory): change its file instead",
        metadata={"agent_profile_id": profile_id},
    )


def version_mismatch(profile_id: str, given: int, latest: int) -> ApiError:
    return ApiError(
        grpc.StatusCode.ABORTED,
        "VERSION_MISMATCH",
        f"agent profile {profile_id!r} is at version {latest}; version {given} must follow the latest",
        metadata={"agent_profile_id": profile_id, "latest_version": str(latest)},
    )


def check_next_version(profile_id: str, given: int, latest: int, same_as_stored: bool) -> bool:
    """Whether `given` is to be stored after `latest` (0: none stored). False when that very version is
    stored already (a retried write that went through); raises when it may not be stored."""
    if given == latest and same_as_stored:
        return False
    if given == 1 and latest:
        raise profile_exists(profile_id)
    if given > 1 and not latest:
        raise profile_not_found(profile_id)
    if given != latest + 1:
        raise version_mismatch(profile_id, given, latest)
    return True


def environment_not_found(environment_id: str) -> ApiError:
    return not_found(
        "ENVIRONMENT_NOT_FOUND", f"environment {environment_id!r} does not exist", environment_id=environment_id
    )


def environment_exists(environment_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.ALREADY_EXISTS,
        "ENVIRONMENT_ALREADY_EXISTS",
        f"environment {environment_id!r} already exists",
        metadata={"environment_id": environment_id},
    )


def with_archive_time(profile: profile_pb2.AgentProfile, archived_us: int) -> profile_pb2.AgentProfile:
    """A stored version as answered: archived_at is the profile's, not the version's."""
    profile.built_in = False
    profile.ClearField("archived_at")
    if archived_us:
        profile.archived_at.FromMicroseconds(archived_us)
    return profile
