"""/v1/sessions: the runtime's sessions through its gRPC API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from google.protobuf import field_mask_pb2, json_format, struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import session_pb2
from agent_runtime.http_surface import caller
from agent_runtime.managed_agents import resources
from agent_runtime.managed_agents.agent_mapping import model_of
from agent_runtime.managed_agents.agent_routes import AgentRoutes
from agent_runtime.managed_agents.bodies import SESSION_CREATE, SESSION_UPDATE
from agent_runtime.managed_agents.environment_mapping import DEFAULT_ENVIRONMENT_ID, require_known_shape
from agent_runtime.managed_agents.errors import invalid
from agent_runtime.managed_agents.requests import json_body, limit, text_field

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub


class SessionRoutes:
    def __init__(self, stub: AgentRuntimeAsyncStub, agents: AgentRoutes) -> None:
        self._stub = stub
        self._agents = agents

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_post("/sessions", self.create_session)
        router.add_get("/sessions", self.list_sessions)
        router.add_get("/sessions/{session_id}", self.get_session)
        router.add_post("/sessions/{session_id}", self.update_session)
        router.add_delete("/sessions/{session_id}", self.delete_session)
        router.add_post("/sessions/{session_id}/archive", self.archive_session)

    async def create_session(self, request: web.Request) -> web.Response:
        body = SESSION_CREATE.checked(await json_body(request))
        agent_id, version, model = _agent(body.get("agent"))
        environment_id = text_field(body, "environment_id", required=True) or ""
        require_known_shape(environment_id)
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise invalid("invalid_metadata", "metadata must be an object of strings")
        architecture = metadata.pop(resources.ARCHITECTURE_KEY, resources.DEFAULT_ARCHITECTURE)
        stored = struct_pb2.Struct()
        stored.update(metadata)
        created = await self._stub.CreateSession(
            api.CreateSessionRequest(
                agent_profile_ref=agent_id,
                agent_profile_version=version,
                environment_id="" if environment_id == DEFAULT_ENVIRONMENT_ID else environment_id,
                architecture=architecture,
                name=text_field(body, "title") or "",
                metadata=stored,
                session_options=session_pb2.SessionOptions(model=model) if model else None,
            ),
            metadata=caller(request),
        )
        return web.json_response(await self._session_json(request, created))

    async def _session_json(self, request: web.Request, session: session_pb2.Session) -> dict[str, Any]:
        profile = await self._agents.profile(request, session.agent_profile_ref, session.agent_profile_version)
        return resources.session_json(session, profile)

    async def list_sessions(self, request: web.Request) -> web.Response:
        page = await self._stub.ListSessions(
            api.ListSessionsRequest(page_size=limit(request), page_token=request.query.get("page", "")),
            metadata=caller(request),
        )
        profiles = {  # each agent version once, however many of the page's sessions run it
            key: await self._agents.profile(request, *key)
            for key in {(session.agent_profile_ref, session.agent_profile_version) for session in page.sessions}
        }
        data = [
            resources.session_json(session, profiles[session.agent_profile_ref, session.agent_profile_version])
            for session in page.sessions
        ]
        return web.json_response({"data": data, "next_page": page.next_page_token or None, "prev_page": None})

    async def get_session(self, request: web.Request) -> web.Response:
        session = await self._stub.GetSession(
            api.GetSessionRequest(session_id=request.match_info["session_id"], view=session_pb2.SESSION_VIEW_BASIC),
            metadata=caller(request),
        )
        return web.json_response(await self._session_json(request, session))

    async def update_session(self, request: web.Request) -> web.Response:
        """A new title, and metadata patched (a key given null is removed); nothing else is served."""
        body = SESSION_UPDATE.checked(await json_body(request))
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
                metadata=caller(request),
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
            metadata=caller(request),
        )
        return web.json_response(await self._session_json(request, updated))

    async def archive_session(self, request: web.Request) -> web.Response:
        archived = await self._stub.ArchiveSession(
            api.ArchiveSessionRequest(session_id=request.match_info["session_id"]), metadata=caller(request)
        )
        return web.json_response(await self._session_json(request, archived))

    async def delete_session(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        await self._stub.DeleteSession(
            api.DeleteSessionRequest(session_id=session_id, purge=True), metadata=caller(request)
        )
        return web.json_response({"id": session_id, "type": "session_deleted"})


def _agent(agent: Any) -> tuple[str, int, str]:
    """(profile id, version (0: the latest), model) from `agent`: an agent's id, {"type": "agent", "id",
    "version"}, or {"type": "agent_with_overrides", "id", "version", "model"}; other overrides are a new
    version of the agent here."""
    if isinstance(agent, str) and agent:
        return agent, 0, ""
    if not isinstance(agent, dict) or agent.get("type") not in ("agent", "agent_with_overrides"):
        raise invalid("invalid_agent", 'agent must be an agent id, or {"type": "agent", "id": ..., "version": ...}')
    agent_id, version = agent.get("id"), agent.get("version", 0)
    if not isinstance(agent_id, str) or not agent_id:
        raise invalid("invalid_agent", "agent.id must be an agent's id")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise invalid("invalid_agent", "agent.version must be a positive integer")
    overridden = sorted(set(agent) - {"type", "id", "version", "model"})
    if overridden:
        raise invalid(
            "not_served",
            f"agent-runtime overrides an agent's model only, not {', '.join(overridden)}: update the agent",
        )
    return agent_id, version, model_of(agent["model"]) if "model" in agent else ""
