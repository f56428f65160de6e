"""The PersistenceAdapter service of the built-in storage servers, over a SessionStore and profiles."""

from __future__ import annotations

from typing import Any

from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import (
    environment_pb2,
    persistence_pb2,
    persistence_pb2_grpc,
    profile_pb2,
    workspace_pb2,
)
from agent_runtime.errors import FieldViolation, bad_request
from agent_runtime.storage import leases
from agent_runtime.storage.paging import (
    FILE_TOKEN_KIND,
    LEASE_TOKEN_KIND,
    decode_key_token,
    decode_token,
    encode_key_token,
    encode_token,
    page_size,
)
from agent_runtime.storage.profile_catalog import ProfileCatalog
from agent_runtime.storage.profiles import ProfileDirectory
from agent_runtime.storage.store import SessionCursor, SessionStore

Context = Any  # grpc.aio.ServicerContext; unused by these handlers
UPDATABLE_PATHS = ("name", "session_options", "last_activity", "metadata", "archived_at", "usage")
DEFAULT_EVENT_LIMIT = 256
MAX_EVENT_LIMIT = 1000


def _require(**values: str) -> None:
    missing = [FieldViolation(name, "is required", "REQUIRED_FIELD") for name, value in values.items() if not value]
    if missing:
        raise bad_request(missing)


def _effective_mask(request: persistence_pb2.UpdateSessionRecordRequest) -> field_mask_pb2.FieldMask:
    paths = list(request.update_mask.paths)
    if paths == ["*"]:
        return field_mask_pb2.FieldMask(paths=UPDATABLE_PATHS)
    if not paths:  # AIP-134: no mask means every field that is set
        given = request.session
        is_set = {
            "name": bool(given.name),
            "session_options": given.HasField("session_options"),
            "last_activity": given.HasField("last_activity"),
            "metadata": given.HasField("metadata"),
            "archived_at": given.HasField("archived_at"),
            "usage": given.HasField("usage"),
        }
        paths = [p for p in UPDATABLE_PATHS if is_set[p]]
    unknown = [p for p in paths if p not in UPDATABLE_PATHS]
    if unknown:
        raise bad_request(
            [
                FieldViolation(
                    "update_mask", f"{p!r} is not one of {', '.join(UPDATABLE_PATHS)}", "INVALID_UPDATE_MASK"
                )
                for p in unknown
            ]
        )
    return field_mask_pb2.FieldMask(paths=paths)


class PersistenceAdapterServicer(persistence_pb2_grpc.PersistenceAdapterServicer):
    def __init__(self, store: SessionStore, profiles: ProfileDirectory) -> None:
        """`profiles`: the built-in ones; the store keeps the others."""
        self._store = store
        self._profiles = ProfileCatalog(profiles, store.catalog)

    async def ListAllSessions(
        self, request: persistence_pb2.ListAllSessionsRequest, context: Context
    ) -> persistence_pb2.ListAllSessionsResponse:
        limit = page_size(request.page_size)
        # One more than asked tells whether a next page exists without a second query.
        records = await self._store.list_sessions(limit + 1, decode_token(request.page_token))
        response = persistence_pb2.ListAllSessionsResponse(sessions=records[:limit])
        if len(records) > limit:
            last = records[limit - 1]
            response.next_page_token = encode_token(SessionCursor(last.created_at.ToMicroseconds(), last.session_id))
        return response

    async def LoadSession(
        self, request: persistence_pb2.LoadSessionRequest, context: Context
    ) -> persistence_pb2.LoadSessionResponse:
        _require(session_id=request.session_id)
        return await self._store.load_session(request.session_id)

    async def ListSessionFiles(
        self, request: persistence_pb2.ListSessionFilesRequest, context: Context
    ) -> persistence_pb2.ListSessionFilesResponse:
        _require(session_id=request.session_id)
        limit = page_size(request.page_size)
        after = decode_key_token(FILE_TOKEN_KIND, request.page_token)
        files = await self._store.list_files(request.session_id, limit + 1, after)
        response = persistence_pb2.ListSessionFilesResponse(files=files[:limit])
        if len(files) > limit:
            response.next_page_token = encode_key_token(FILE_TOKEN_KIND, files[limit - 1].path)
        return response

    async def GetSessionFile(
        self, request: persistence_pb2.GetSessionFileRequest, context: Context
    ) -> workspace_pb2.WorkspaceFile:
        _require(session_id=request.session_id, path=request.path)
        return await self._store.get_file(request.session_id, request.path)

    async def GetSessionRecord(
        self, request: persistence_pb2.GetSessionRecordRequest, context: Context
    ) -> persistence_pb2.SessionRecord:
        _require(session_id=request.session_id)
        return await self._store.get_session(request.session_id)

    async def CreateSessionRecord(
        self, request: persistence_pb2.CreateSessionRecordRequest, context: Context
    ) -> persistence_pb2.CreateSessionRecordResponse:
        _require(**{"session.session_id": request.session.session_id})
        _require(**{f"workspace_files[{i}].path": f.path for i, f in enumerate(request.workspace_files)})
        await self._store.create_session(request.session, request.workspace_files)
        return persistence_pb2.CreateSessionRecordResponse(session=request.session)

    async def UpdateSessionRecord(
        self, request: persistence_pb2.UpdateSessionRecordRequest, context: Context
    ) -> persistence_pb2.UpdateSessionRecordResponse:
        _require(session_id=request.session_id)
        mask = _effective_mask(request)

        def change(record: persistence_pb2.SessionRecord) -> None:
            mask.MergeMessage(request.session, record, replace_message_field=True, replace_repeated_field=True)

        record = await self._store.update_session(request.session_id, change, request.lease_generation)
        return persistence_pb2.UpdateSessionRecordResponse(session=record)

    async def SaveTranscript(
        self, request: persistence_pb2.SaveTranscriptRequest, context: Context
    ) -> persistence_pb2.SaveTranscriptResponse:
        _require(session_id=request.session_id)
        await self._store.save_transcript(
            request.session_id, request.subagent_id, request.raw_transcript, request.lease_generation
        )
        return persistence_pb2.SaveTranscriptResponse()

    async def SaveWorkspaceFile(
        self, request: persistence_pb2.SaveWorkspaceFileRequest, context: Context
    ) -> persistence_pb2.SaveWorkspaceFileResponse:
        _require(session_id=request.session_id, **{"file.path": request.file.path})
        stored = await self._store.save_file(request.session_id, request.file, request.lease_generation)
        return persistence_pb2.SaveWorkspaceFileResponse(file=stored)

    async def DeleteSessionFile(
        self, request: persistence_pb2.DeleteSessionFileRequest, context: Context
    ) -> persistence_pb2.DeleteSessionFileResponse:
        _require(session_id=request.session_id, path=request.path)
        deleted = await self._store.delete_file(request.session_id, request.path, request.lease_generation)
        return persistence_pb2.DeleteSessionFileResponse(deleted=deleted)

    async def ChangeSessionFiles(
        self, request: persistence_pb2.ChangeSessionFilesRequest, context: Context
    ) -> persistence_pb2.ChangeSessionFilesResponse:
        _require(session_id=request.session_id)
        _require(**{f"saved[{i}].path": f.path for i, f in enumerate(request.saved)})
        stored = await self._store.change_files(
            request.session_id, request.saved, request.deleted, request.lease_generation
        )
        return persistence_pb2.ChangeSessionFilesResponse(saved=stored)

    async def ListAgentProfiles(
        self, request: profile_pb2.ListAgentProfilesRequest, context: Context
    ) -> profile_pb2.ListAgentProfilesResponse:
        return profile_pb2.ListAgentProfilesResponse(profiles=await self._profiles.list(request.include_archived))

    async def LoadAgentProfile(
        self, request: persistence_pb2.LoadAgentProfileRequest, context: Context
    ) -> profile_pb2.AgentProfile:
        _require(agent_profile_id=request.agent_profile_id)
        return await self._profiles.load(request.agent_profile_id, request.version)

    async def SaveAgentProfile(
        self, request: persistence_pb2.SaveAgentProfileRequest, context: Context
    ) -> profile_pb2.AgentProfile:
        _require(**{"profile.id": request.profile.id})
        return await self._profiles.save(request.profile)

    async def MarkAgentProfileArchived(
        self, request: persistence_pb2.MarkAgentProfileArchivedRequest, context: Context
    ) -> profile_pb2.AgentProfile:
        _require(
            agent_profile_id=request.agent_profile_id,
            archived_at="set" if request.HasField("archived_at") else "",
        )
        return await self._profiles.archive(request.agent_profile_id, request.archived_at)

    async def ListAgentProfileVersions(
        self, request: profile_pb2.ListAgentProfileVersionsRequest, context: Context
    ) -> profile_pb2.ListAgentProfileVersionsResponse:
        _require(agent_profile_id=request.agent_profile_id)
        return await self._profiles.versions(request.agent_profile_id, request.page_size, request.page_token)

    async def CreateEnvironmentRecord(
        self, request: persistence_pb2.CreateEnvironmentRecordRequest, context: Context
    ) -> environment_pb2.Environment:
        _require(**{"environment.environment_id": request.environment.environment_id})
        await self._store.catalog.create_environment(request.environment)
        return request.environment

    async def GetEnvironmentRecord(
        self, request: persistence_pb2.GetEnvironmentRecordRequest, context: Context
    ) -> environment_pb2.Environment:
        _require(environment_id=request.environment_id)
        return await self._store.catalog.get_environment(request.environment_id)

    async def UpdateEnvironmentRecord(
        self, request: persistence_pb2.UpdateEnvironmentRecordRequest, context: Context
    ) -> environment_pb2.Environment:
        _require(**{"environment.environment_id": request.environment.environment_id})
        await self._store.catalog.replace_environment(request.environment)
        return request.environment

    async def ListEnvironmentRecords(
        self, request: persistence_pb2.ListEnvironmentRecordsRequest, context: Context
    ) -> persistence_pb2.ListEnvironmentRecordsResponse:
        environments = await self._store.catalog.list_environments()
        return persistence_pb2.ListEnvironmentRecordsResponse(environments=environments)

    async def DeleteEnvironmentRecord(
        self, request: persistence_pb2.DeleteEnvironmentRecordRequest, context: Context
    ) -> persistence_pb2.DeleteEnvironmentRecordResponse:
        _require(environment_id=request.environment_id)
        deleted = await self._store.catalog.delete_environment(request.environment_id)
        return persistence_pb2.DeleteEnvironmentRecordResponse(deleted=deleted)

    async def AppendEvents(
        self, request: persistence_pb2.AppendEventsRequest, context: Context
    ) -> persistence_pb2.AppendEventsResponse:
        _require(session_id=request.session_id)
        last = await self._store.append_events(
            request.session_id, request.expected_last_sequence, request.events, request.lease_generation
        )
        return persistence_pb2.AppendEventsResponse(last_sequence=last)

    async def ReadEvents(
        self, request: persistence_pb2.ReadEventsRequest, context: Context
    ) -> persistence_pb2.ReadEventsResponse:
        _require(session_id=request.session_id)
        negative = [(n, v) for n, v in (("after_sequence", request.after_sequence), ("limit", request.limit)) if v < 0]
        if negative:
            raise bad_request([FieldViolation(n, "must not be negative", "NEGATIVE_NUMBER") for n, _ in negative])
        limit = min(request.limit or DEFAULT_EVENT_LIMIT, MAX_EVENT_LIMIT)
        events, last = await self._store.read_events(request.session_id, request.after_sequence, limit)
        return persistence_pb2.ReadEventsResponse(events=events, last_sequence=last)

    async def DeleteSessionRecord(
        self, request: persistence_pb2.DeleteSessionRecordRequest, context: Context
    ) -> persistence_pb2.DeleteSessionRecordResponse:
        _require(session_id=request.session_id)
        await self._store.delete_session(request.session_id)
        return persistence_pb2.DeleteSessionRecordResponse()

    async def AcquireSessionLease(
        self, request: persistence_pb2.AcquireSessionLeaseRequest, context: Context
    ) -> persistence_pb2.SessionLease:
        _require(session_id=request.session_id)
        change = leases.acquiring(request.session_id, request.replica_id, request.address, request.ttl)
        return await self._lease(request.session_id, change)

    async def RenewSessionLease(
        self, request: persistence_pb2.RenewSessionLeaseRequest, context: Context
    ) -> persistence_pb2.SessionLease:
        _require(session_id=request.session_id)
        change = leases.renewing(request.session_id, request.replica_id, request.generation, request.ttl)
        return await self._lease(request.session_id, change)

    async def ReleaseSessionLease(
        self, request: persistence_pb2.ReleaseSessionLeaseRequest, context: Context
    ) -> persistence_pb2.ReleaseSessionLeaseResponse:
        _require(session_id=request.session_id, replica_id=request.replica_id)
        lease = await self._lease(request.session_id, leases.releasing(request.replica_id, request.generation))
        mine = (lease.replica_id, lease.generation) == (request.replica_id, request.generation)
        return persistence_pb2.ReleaseSessionLeaseResponse(released=mine and not lease.held)

    async def GetSessionLease(
        self, request: persistence_pb2.GetSessionLeaseRequest, context: Context
    ) -> persistence_pb2.SessionLease:
        _require(session_id=request.session_id)
        lease, now_us = await self._store.get_lease(request.session_id)
        return leases.as_message(request.session_id, lease, now_us)

    async def ListLapsedSessionLeases(
        self, request: persistence_pb2.ListLapsedSessionLeasesRequest, context: Context
    ) -> persistence_pb2.ListLapsedSessionLeasesResponse:
        limit = page_size(request.page_size)
        after = decode_key_token(LEASE_TOKEN_KIND, request.page_token) or ""
        lapsed, now_us = await self._store.lapsed_leases(limit + 1, after)
        response = persistence_pb2.ListLapsedSessionLeasesResponse(
            leases=[leases.as_message(session_id, lease, now_us) for session_id, lease in lapsed[:limit]]
        )
        if len(lapsed) > limit:
            response.next_page_token = encode_key_token(LEASE_TOKEN_KIND, lapsed[limit - 1][0])
        return response

    async def _lease(self, session_id: str, change: leases.LeaseChange) -> persistence_pb2.SessionLease:
        lease, now_us = await self._store.change_lease(session_id, change)
        return leases.as_message(session_id, lease, now_us)
