"""The agent profile RPCs: built-in profiles from storage's directory, stored ones created and updated
here, each update a new version. Storage keeps the versions and refuses a version that does not follow
the latest, so two runtimes updating one profile at once never lose a change."""

from __future__ import annotations

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, persistence_pb2, profile_pb2
from agent_runtime.catalog.profile_checks import check_profile
from agent_runtime.errors import ApiError, FieldViolation
from agent_runtime.sessions import validation
from agent_runtime.storage.catalog import profile_read_only
from agent_runtime.storage.client import StorageClient
from agent_runtime.timestamps import now

# An update without expected_version reads the latest and writes the next; another writer in between
# makes it read again, this many times.
UPDATE_ATTEMPTS = 5
VERSION_MISMATCH = "VERSION_MISMATCH"


def content_of(profile: profile_pb2.AgentProfile) -> profile_pb2.AgentProfile:
    """The profile without its output-only fields: what a caller gives and a version is made of."""
    content = profile_pb2.AgentProfile()
    content.CopyFrom(profile)
    for field in ("version", "built_in", "created_at", "updated_at", "archived_at"):
        content.ClearField(field)
    return content


def profile_archived(profile_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "PROFILE_ARCHIVED",
        f"agent profile {profile_id!r} is archived: no session starts on it and it is not changed",
        metadata={"agent_profile_id": profile_id},
    )


def _check_version(field: str, version: int) -> None:
    if version < 0:
        validation.raise_if_any([FieldViolation(field, "must not be negative", "INVALID_VERSION")])


class AgentProfiles:
    def __init__(self, storage: StorageClient) -> None:
        self._storage = storage

    async def list(self, request: profile_pb2.ListAgentProfilesRequest) -> profile_pb2.ListAgentProfilesResponse:
        return await self._storage.call(self._storage.stub.ListAgentProfiles, request)

    async def get(self, profile_id: str, version: int = 0) -> profile_pb2.AgentProfile:
        validation.raise_if_any(validation.check_profile_id("agent_profile_id", profile_id))
        _check_version("version", version)
        return await self._storage.call(
            self._storage.stub.LoadAgentProfile,
            persistence_pb2.LoadAgentProfileRequest(agent_profile_id=profile_id, version=version),
        )

    async def for_new_session(self, profile_id: str, version: int) -> profile_pb2.AgentProfile:
        """The version a new session runs (0: the latest), unless the profile is archived."""
        profile = await self.get(profile_id, version)
        if profile.HasField("archived_at"):
            raise profile_archived(profile_id)
        return profile

    async def create(self, request: agent_runtime_pb2.CreateAgentProfileRequest) -> profile_pb2.AgentProfile:
        validation.raise_if_any(check_profile("profile", request.profile))
        first = content_of(request.profile)
        first.version = 1
        first.created_at.CopyFrom(now())
        first.updated_at.CopyFrom(first.created_at)
        return await self._save(first)

    async def update(self, request: agent_runtime_pb2.UpdateAgentProfileRequest) -> profile_pb2.AgentProfile:
        validation.raise_if_any(check_profile("profile", request.profile))
        _check_version("expected_version", request.expected_version)
        for attempt in range(UPDATE_ATTEMPTS):
            latest = await self.get(request.profile.id)
            if latest.built_in:
                raise profile_read_only(latest.id)
            if latest.HasField("archived_at"):
                raise profile_archived(latest.id)
            if request.expected_version and request.expected_version != latest.version:
                raise _mismatch(latest, request.expected_version)
            following = content_of(request.profile)
            if following == content_of(latest):
                return latest  # nothing changed: no new version
            following.version = latest.version + 1
            following.created_at.CopyFrom(latest.created_at)
            following.updated_at.CopyFrom(now())
            try:
                return await self._save(following)
            except ApiError as error:
                if error.reason != VERSION_MISMATCH or request.expected_version or attempt == UPDATE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def versions(
        self, request: profile_pb2.ListAgentProfileVersionsRequest
    ) -> profile_pb2.ListAgentProfileVersionsResponse:
        validation.raise_if_any(validation.check_profile_id("agent_profile_id", request.agent_profile_id))
        return await self._storage.call(self._storage.stub.ListAgentProfileVersions, request)

    async def archive(self, request: agent_runtime_pb2.ArchiveAgentProfileRequest) -> profile_pb2.AgentProfile:
        validation.raise_if_any(validation.check_profile_id("agent_profile_id", request.agent_profile_id))
        return await self._storage.call(
            self._storage.stub.MarkAgentProfileArchived,
            persistence_pb2.MarkAgentProfileArchivedRequest(
                agent_profile_id=request.agent_profile_id, archived_at=now()
            ),
        )

    async def _save(self, profile: profile_pb2.AgentProfile) -> profile_pb2.AgentProfile:
        return await self._storage.call(
            self._storage.stub.SaveAgentProfile, persistence_pb2.SaveAgentProfileRequest(profile=profile)
        )


def _mismatch(latest: profile_pb2.AgentProfile, expected: int) -> ApiError:
    return ApiError(
        grpc.StatusCode.ABORTED,
        VERSION_MISMATCH,
        f"agent profile {latest.id!r} is at version {latest.version}, not {expected}: read it again and retry",
        metadata={"agent_profile_id": latest.id, "latest_version": str(latest.version)},
    )
