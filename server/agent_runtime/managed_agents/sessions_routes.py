"""/v1/agents, /v1/environments and /v1/sessions: the runtime's profiles, its sandbox and its sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from google.protobuf import field_mask_pb2, json_format, struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import profile_pb2, session_pb2
from agent_runtime.managed_agents import resources
from agent_runtime.managed_agents.errors import ManagedAgentsError, invalid
from agent_runtime.managed_agents.requests import caller_metadata, json_body, limit, text_field

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub


class SessionRoutes:
    def __init__(self, stub: AgentRuntimeAsyncStub, sandbox: str) -> None:
        self._stub = stub
        self._sandbox = sandbox

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/agents", self.list_agents)
        router.add_get("/agents/{agent_id}", self.get_agent)
        router.add_get("/environments", self.list_environments)
        router.add_get("/environments/{environment_id}", self.get_environment)
        router.add_post("/sessions", self.create_session)
        router.add_get("/sessions", self.list_sessions)
        router.add_get("/sessions/{session_id}", self.get_session)
        router.add_post("/sessions/{session_id}", self.update_session)
        router.add_delete("/sessions/{session_id}", self.delete_session)

    async def _profile(self, request: web.Request, profile_id: str) -> profile_pb2.AgentProfile:
        return await self._stub.GetAgentProfile(
            api.GetAgentProfileRequest(agent_profile_id=profile_id), metadata=caller_metadata(request)
        )

    async def list_agents(self, request: web.Request) -> web.Response:
        listed = await self._stub.ListAgentProfiles(
            profile_pb2.ListAgentProfilesRequest(), metadata=caller_metadata(request)
        )
        agents = [resources.agent_json(await self._profile(request, summary.id)) for summary in listed.profiles]
        return web.json_response({"data": agents, "next_page": None})

    async def get_agent(self, request: web.Request) -> web.Response:
        version = request.query.get("version", "1")
        if version != "1":
            raise ManagedAgentsError(404, "agent_version_not_found", f"agent version {version} does not exist")
        return web.json_response(resources.agent_json(await self._profile(request, request.match_info["agent_id"])))

    def _environment(self, environment_id: str) -> dict[str, Any]:
        if environment_id != resources.DEFAULT_ENVIRONMENT_ID:
            raise ManagedAgentsError(
                404,
                "environment_not_found",
                f"environment {environment_id!r} does not exist: this runtime has one, "
                f"{resources.DEFAULT_ENVIRONMENT_ID!r}",
            )
        return resources.environment_json(self._sandbox)

    async def list_environments(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [resources.environment_json(self._sandbox)], "next_page": None})

    async def get_environment(self, request: web.Request) -> web.Response:
        return web.json_response(self._environment(request.match_info["environment_id"]))

    async def create_session(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        agent_id = _agent_id(body.get("agent"))
        self._environment(text_field(body, "environment_id", required=True) or "")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise invalid("invalid_metadata", "metadata must be an object of strings")
        architecture = metadata.pop(resources.ARCHITECTURE_KEY, resources.DEFAULT_ARCHITECTURE)
        stored = struct_pb2.Struct()
        stored.update(metadata)
        created = await self._stub.CreateSession(
            api.CreateSessionRequest(
                agent_profile_ref=agent_id,
                architecture=architecture,
                name=text_field(body, "title") or "",
                metadata=stored,
            ),
            metadata=caller_metadata(request),
        )
        return web.json_response(resources.session_json(created, await self._profile(request, agent_id)))

    async def _session_json(self, request: web.Request, session: session_pb2.Session) -> dict[str, Any]:
        return resources.session_json(session, await self._profile(request, session.agent_profile_ref))

    async def list_sessions(self, request: web.Request) -> web.Response:
        page = await self._stub.ListSessions(
            api.ListSessionsRequest(page_size=limit(request), page_token=request.query.get("page", "")),
            metadata=caller_metadata(request),
        )
        profiles = {  # each agent once, however many of the page's sessions run it
            profile_id: await self._profile(request, profile_id)
            for profile_id in {session.agent_profile_ref for session in page.sessions}
        }
        data = [resources.session_json(session, profiles[session.agent_profile_ref]) for session in page.sessions]
        return web.json_response({"data": data, "next_page": page.next_page_token or None, "prev_page": None})

    async def get_session(self, request: web.Request) -> web.Response:
        session = await self._stub.GetSession(
            api.GetSessionRequest(session_id=request.match_info["session_id"], view=session_pb2.SESSION_VIEW_BASIC),
            metadata=caller_metadata(request),
        )
        return web.json_response(await self._session_json(request, session))

    async def update_session(self, request: web.Request) -> web.Response:
        """A new title, and metadata patched (a key given null is removed); nothing else is served."""
        body = await json_body(request)
        unserved = sorted(set(body) - {"title", "metadata"})
        if unserved:
            raise invalid("not_served", f"agent-runtime does not update a session's {', '.join(unserved)}")
        session_id, paths = request.match_info["session_id"], []
        changed = session_pb2.Session()
        if "title" in body:
            changed.name = text_field(body, "title") or ""
            paths.append("name")
        if "metadata" in body:
            patch = body["metadata"] or {}
            if not isinstance(patch, dict) or not all(v is None or isinstance(v, str) for v in patch.values()):
                raise invalid("invalid_metadata", "metadata must be an object of strings (null removes a key)")
            if resources.ARCHITECTURE_KEY in patch:
                raise invalid("invalid_metadata", "what runs a session is chosen when it is created")
            current = await self._stub.GetSession(
                api.GetSessionRequest(session_id=session_id, view=session_pb2.SESSION_VIEW_BASIC),
                metadata=caller_metadata(request),
            )
            merged = {**json_format.MessageToDict(current.metadata), **patch}
            changed.metadata.update({key: value for key, value in merged.items() if value is not None})
            paths.append("metadata")
        if not paths:  # nothing to change: the session as it is
            return await self.get_session(request)
        updated = await self._stub.UpdateSession(
            api.UpdateSessionRequest(
                session_id=session_id, session=changed, update_mask=field_mask_pb2.FieldMask(paths=paths)
            ),
            metadata=caller_metadata(request),
        )
        return web.json_response(await self._session_json(request, updated))

    async def delete_session(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        await self._stub.DeleteSession(
            api.DeleteSessionRequest(session_id=session_id, purge=True), metadata=caller_metadata(request)
        )
        return web.json_response({"id": session_id, "type": "session_deleted"})


def _agent_id(agent: Any) -> str:
    """`agent`: an agent's id, or {"type": "agent", "id": ..., "version": 1}."""
    if isinstance(agent, str) and agent:
        return agent
    if isinstance(agent, dict) and agent.get("type") == "agent" and isinstance(agent.get("id"), str):
        if agent.get("version", 1) != 1:
            raise ManagedAgentsError(404, "agent_version_not_found", f"agent version {agent['version']} does not exist")
        return str(agent["id"])
    raise invalid("invalid_agent", 'agent must be an agent id, or {"type": "agent", "id": ..., "version": ...}')
