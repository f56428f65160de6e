"""AgentRuntime servicer: each RPC hands its request to the part of the runtime that owns it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agent_runtime._gen.agentruntime.v1 import (
    agent_runtime_pb2,
    agent_runtime_pb2_grpc,
    environment_pb2,
    profile_pb2,
    session_pb2,
    workspace_pb2,
)
from agent_runtime.api.encoded_events import EncodedEvents
from agent_runtime.events.stream import EventStreams
from agent_runtime.fleet.routing import SessionRouter
from agent_runtime.sessions.manager import SessionManager
from agent_runtime.sessions.watch_hub import SessionWatchHub

Context = Any  # grpc.aio.ServicerContext


class AgentRuntimeServicer(agent_runtime_pb2_grpc.AgentRuntimeServicer):
    def __init__(
        self, sessions: SessionManager, streams: EventStreams, watchers: SessionWatchHub, router: SessionRouter
    ) -> None:
        """A call for a session's work goes through `router`, to the replica that holds the session."""
        self._sessions = sessions
        self._streams = streams
        self._watchers = watchers
        self._router = router
        self._encoded = EncodedEvents()

    async def CreateSession(
        self, request: agent_runtime_pb2.CreateSessionRequest, context: Context
    ) -> session_pb2.Session:
        return await self._sessions.create(request)

    async def GetSession(self, request: agent_runtime_pb2.GetSessionRequest, context: Context) -> session_pb2.Session:
        return await self._router.get_session(request, context)

    async def ListSessions(
        self, request: agent_runtime_pb2.ListSessionsRequest, context: Context
    ) -> agent_runtime_pb2.ListSessionsResponse:
        return await self._sessions.list(request.page_size, request.page_token)

    async def UpdateSession(
        self, request: agent_runtime_pb2.UpdateSessionRequest, context: Context
    ) -> session_pb2.Session:
        return await self._router.call(
            "UpdateSession", request.session_id, request, context, lambda: self._sessions.update(request)
        )

    async def DeleteSession(
        self, request: agent_runtime_pb2.DeleteSessionRequest, context: Context
    ) -> agent_runtime_pb2.DeleteSessionResponse:
        return await self._router.call(
            "DeleteSession",
            request.session_id,
            request,
            context,
            lambda: self._sessions.delete(request.session_id, request.purge),
        )

    async def ArchiveSession(
        self, request: agent_runtime_pb2.ArchiveSessionRequest, context: Context
    ) -> session_pb2.Session:
        return await self._router.call(
            "ArchiveSession", request.session_id, request, context, lambda: self._sessions.archive(request.session_id)
        )

    async def ListAgentProfiles(
        self, request: profile_pb2.ListAgentProfilesRequest, context: Context
    ) -> profile_pb2.ListAgentProfilesResponse:
        return await self._sessions.profiles.list(request)

    async def GetAgentProfile(
        self, request: agent_runtime_pb2.GetAgentProfileRequest, context: Context
    ) -> profile_pb2.AgentProfile:
        return await self._sessions.profiles.get(request.agent_profile_id, request.version)

    async def CreateAgentProfile(
        self, request: agent_runtime_pb2.CreateAgentProfileRequest, context: Context
    ) -> profile_pb2.AgentProfile:
        return await self._sessions.profiles.create(request)

    async def UpdateAgentProfile(
        self, request: agent_runtime_pb2.UpdateAgentProfileRequest, context: Context
    ) -> profile_pb2.AgentProfile:
        return await self._sessions.profiles.update(request)

    async def ListAgentProfileVersions(
        self, request: profile_pb2.ListAgentProfileVersionsRequest, context: Context
    ) -> profile_pb2.ListAgentProfileVersionsResponse:
        return await self._sessions.profiles.versions(request)

    async def ArchiveAgentProfile(
        self, request: agent_runtime_pb2.ArchiveAgentProfileRequest, context: Context
    ) -> profile_pb2.AgentProfile:
        return await self._sessions.profiles.archive(request)

    async def CreateEnvironment(
        self, request: agent_runtime_pb2.CreateEnvironmentRequest, context: Context
    ) -> environment_pb2.Environment:
        return await self._sessions.environments.create(request)

    async def GetEnvironment(
        self, request: agent_runtime_pb2.GetEnvironmentRequest, context: Context
    ) -> environment_pb2.Environment:
        return await self._sessions.environments.get(request.environment_id)

    async def ListEnvironments(
        self, request: agent_runtime_pb2.ListEnvironmentsRequest, context: Context
    ) -> agent_runtime_pb2.ListEnvironmentsResponse:
        return await self._sessions.environments.list(request)

    async def UpdateEnvironment(
        self, request: agent_runtime_pb2.UpdateEnvironmentRequest, context: Context
    ) -> environment_pb2.Environment:
        return await self._sessions.environments.update(request)

    async def ArchiveEnvironment(
        self, request: agent_runtime_pb2.ArchiveEnvironmentRequest, context: Context
    ) -> environment_pb2.Environment:
        return await self._sessions.environments.archive(request)

    async def DeleteEnvironment(
        self, request: agent_runtime_pb2.DeleteEnvironmentRequest, context: Context
    ) -> agent_runtime_pb2.DeleteEnvironmentResponse:
        return await self._sessions.environments.delete(request)

    async def SendMessage(
        self, request: agent_runtime_pb2.SendMessageRequest, context: Context
    ) -> agent_runtime_pb2.SendMessageResponse:
        return await self._router.call(
            "SendMessage", request.session_id, request, context, lambda: self._sessions.send_message(request)
        )

    async def InterruptSession(
        self, request: agent_runtime_pb2.InterruptSessionRequest, context: Context
    ) -> agent_runtime_pb2.InterruptSessionResponse:
        return await self._router.call(
            "InterruptSession",
            request.session_id,
            request,
            context,
            lambda: self._sessions.interrupt(request.session_id),
        )

    async def RespondToApproval(
        self, request: agent_runtime_pb2.RespondToApprovalRequest, context: Context
    ) -> agent_runtime_pb2.RespondToApprovalResponse:
        return await self._router.call(
            "RespondToApproval",
            request.session_id,
            request,
            context,
            lambda: self._sessions.respond_to_approval(request),
        )

    async def SubmitToolResult(
        self, request: agent_runtime_pb2.SubmitToolResultRequest, context: Context
    ) -> agent_runtime_pb2.SubmitToolResultResponse:
        submit = self._sessions.submit_tool_result
        return await self._router.call(
            "SubmitToolResult", request.session_id, request, context, lambda: submit(request)
        )

    async def SyncSession(
        self, request: agent_runtime_pb2.SyncSessionRequest, context: Context
    ) -> agent_runtime_pb2.SyncSessionResponse:
        return await self._router.call(
            "SyncSession", request.session_id, request, context, lambda: self._sessions.sync(request.session_id)
        )

    async def StreamSessionEvents(  # type: ignore[override]  # it yields the responses' bytes
        self, request: agent_runtime_pb2.StreamSessionEventsRequest, context: Context
    ) -> AsyncIterator[bytes]:
        """Each response already encoded (see rpc.handlers: a stream may yield bytes)."""
        async for item in self._streams.stream(request, lambda: context.send_initial_metadata(())):
            yield self._encoded.response(request.session_id, item)

    async def WatchSessions(
        self, request: agent_runtime_pb2.WatchSessionsRequest, context: Context
    ) -> AsyncIterator[agent_runtime_pb2.WatchSessionsResponse]:
        async for response in self._watchers.watch(lambda: context.send_initial_metadata(())):
            yield response

    async def ListWorkspaceFiles(
        self, request: agent_runtime_pb2.ListWorkspaceFilesRequest, context: Context
    ) -> agent_runtime_pb2.ListWorkspaceFilesResponse:
        return await self._sessions.list_files(request.session_id, request.page_size, request.page_token)

    async def GetWorkspaceFile(
        self, request: agent_runtime_pb2.GetWorkspaceFileRequest, context: Context
    ) -> workspace_pb2.WorkspaceFile:
        return await self._sessions.get_file(request.session_id, request.path)
