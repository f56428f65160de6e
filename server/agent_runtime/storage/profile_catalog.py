"""The agent profiles a built-in storage server serves: the profiles directory's (built in, read-only,
version 1) and the stored ones (every version). A built-in profile hides a stored one of the same id,
which only a file added later can make."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import profile_pb2
from agent_runtime.errors import FieldViolation, bad_request
from agent_runtime.storage.catalog import (
    CatalogStore,
    profile_exists,
    profile_not_found,
    profile_read_only,
    profile_version_not_found,
    with_archive_time,
)
from agent_runtime.storage.paging import decode_key_token, encode_key_token
from agent_runtime.storage.profiles import ProfileDirectory

VERSION_TOKEN_KIND = "version"
DEFAULT_VERSIONS_PAGE = 20
MAX_VERSIONS_PAGE = 100


def _summary(profile: profile_pb2.AgentProfile) -> profile_pb2.AgentProfileSummary:
    summary = profile_pb2.AgentProfileSummary(
        id=profile.id,
        name=profile.name,
        description=profile.description,
        version=profile.version,
        built_in=profile.built_in,
    )
    if profile.HasField("archived_at"):
        summary.archived_at.CopyFrom(profile.archived_at)
    return summary


def _check_version(field: str, version: int) -> None:
    if version < 0:
        raise bad_request([FieldViolation(field, "must not be negative", "INVALID_VERSION")])


class ProfileCatalog:
    def __init__(self, directory: ProfileDirectory, stored: CatalogStore) -> None:
        self._directory = directory
        self._stored = stored

    async def list(self, include_archived: bool) -> list[profile_pb2.AgentProfileSummary]:
        built_in = await self._directory.read()
        profiles = {profile_id: await self._directory.load(profile_id) for profile_id in built_in}
        for profile, archived_us in await self._stored.latest_profiles():
            if profile.id not in profiles and (include_archived or not archived_us):
                profiles[profile.id] = with_archive_time(profile, archived_us)
        return [_summary(profile) for _, profile in sorted(profiles.items()) if profile is not None]

    async def load(self, profile_id: str, version: int) -> profile_pb2.AgentProfile:
        _check_version("version", version)
        built_in = await self._directory.load(profile_id)
        if built_in is not None:
            if version > 1:
                raise profile_version_not_found(profile_id, version)
            return built_in
        found = await self._stored.load_profile_version(profile_id, version)
        if found is None:
            raise profile_not_found(profile_id)
        return with_archive_time(*found)

    async def save(self, profile: profile_pb2.AgentProfile) -> profile_pb2.AgentProfile:
        if profile.version < 1:
            raise bad_request([FieldViolation("profile.version", "must be at least 1", "INVALID_VERSION")])
        if await self._directory.load(profile.id) is not None:
            raise profile_exists(profile.id) if profile.version == 1 else profile_read_only(profile.id)
        stored = profile_pb2.AgentProfile()
        stored.CopyFrom(profile)
        stored.built_in = False
        stored.ClearField("archived_at")
        await self._stored.save_profile_version(stored)
        return await self.load(profile.id, profile.version)

    async def archive(self, profile_id: str, archived_at: timestamp_pb2.Timestamp) -> profile_pb2.AgentProfile:
        if await self._directory.load(profile_id) is not None:
            raise profile_read_only(profile_id)
        if not await self._stored.archive_profile(profile_id, archived_at.ToMicroseconds()):
            raise profile_not_found(profile_id)
        return await self.load(profile_id, 0)

    async def versions(
        self, profile_id: str, page_size: int, page_token: str
    ) -> profile_pb2.ListAgentProfileVersionsResponse:
        if page_size < 0:
            raise bad_request([FieldViolation("page_size", "must not be negative", "INVALID_PAGE_SIZE")])
        limit = min(page_size or DEFAULT_VERSIONS_PAGE, MAX_VERSIONS_PAGE)
        before = _version_of_token(page_token)
        built_in = await self._directory.load(profile_id)
        if built_in is not None:
            return profile_pb2.ListAgentProfileVersionsResponse(versions=[] if before else [built_in])
        found = await self._stored.profile_versions(profile_id, limit + 1, before)
        if found is None:
            raise profile_not_found(profile_id)
        versions, archived_us = found
        response = profile_pb2.ListAgentProfileVersionsResponse(
            versions=[with_archive_time(version, archived_us) for version in versions[:limit]]
        )
        if len(versions) > limit:
            response.next_page_token = encode_key_token(VERSION_TOKEN_KIND, str(versions[limit - 1].version))
        return response


def _version_of_token(token: str) -> int:
    """The version the page before ended at (the next page lists those below it); 0 for the first page."""
    last = decode_key_token(VERSION_TOKEN_KIND, token)
    if last is None:
        return 0
    if not last.isdigit() or not 0 < int(last) < 2**31:
        raise bad_request([FieldViolation("page_token", "is not a token this server issued", "INVALID_PAGE_TOKEN")])
    return int(last)
