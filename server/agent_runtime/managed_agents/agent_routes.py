"""/v1/agents: the runtime's agent profiles, built in (read-only) and stored (created, updated a version
at a time, archived) through its gRPC API."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import grpc
from aiohttp import web

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import profile_pb2
from agent_runtime.event_head import call_error
from agent_runtime.http_surface import caller
from agent_runtime.managed_agents.agent_mapping import agent_json, profile_from_create, profile_from_update
from agent_runtime.managed_agents.bodies import AGENT_CREATE, AGENT_UPDATE
from agent_runtime.managed_agents.errors import ManagedAgentsError, invalid
from agent_runtime.managed_agents.requests import flag, json_body, limit

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

# An update without `version` applies to whichever version is the latest: another writer in between makes
# it read that one again and apply the change to it, this many times.
UPDATE_ATTEMPTS = 5


def _version(text: str | None) -> int:
    if text is None:
        return 0
    if not text.isascii() or not text.isdigit() or int(text) < 1 or int(text) >= 2**31:
        raise invalid("invalid_version", f"version must be a positive integer, not {text!r}")
    return int(text)


def _time_filter(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("invalid_time", f"{name} must be an RFC 3339 time, not {text!r}") from None


def _created_within(agent: dict[str, Any], request: web.Request) -> bool:
    created = datetime.fromisoformat(agent["created_at"].replace("Z", "+00:00"))
    earliest, latest = _time_filter(request, "created_at[gte]"), _time_filter(request, "created_at[lte]")
    return (earliest is None or created >= earliest) and (latest is None or created <= latest)


class AgentRoutes:
    def __init__(self, stub: AgentRuntimeAsyncStub) -> None:
        self._stub = stub

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/agents", self.list_agents)
        router.add_post("/agents", self.create_agent)
        router.add_get("/agents/{agent_id}", self.get_agent)
        router.add_post("/agents/{agent_id}", self.update_agent)
        router.add_get("/agents/{agent_id}/versions", self.list_versions)
        router.add_post("/agents/{agent_id}/archive", self.archive_agent)

    async def profile(self, request: web.Request, profile_id: str, version: int = 0) -> profile_pb2.AgentProfile:
        return await self._stub.GetAgentProfile(
            api.GetAgentProfileRequest(agent_profile_id=profile_id, version=version),
            metadata=caller(request),
        )

    async def list_agents(self, request: web.Request) -> web.Response:
        """Agents in id order, a page at a time; the page token is the last id of the page before."""
        include_archived = flag(request, "include_archived")
        listed = await self._stub.ListAgentProfiles(
            profile_pb2.ListAgentProfilesRequest(include_archived=include_archived), metadata=caller(request)
        )
        after, size = request.query.get("page", ""), limit(request)
        later = [summary.id for summary in listed.profiles if summary.id > after]
        agents = [agent_json(await self.profile(request, profile_id)) for profile_id in later[:size]]
        data = [agent for agent in agents if _created_within(agent, request)]
        return web.json_response({"data": data, "next_page": later[size - 1] if len(later) > size else None})

    async def create_agent(self, request: web.Request) -> web.Response:
        profile = profile_from_create(AGENT_CREATE.checked(await json_body(request)))
        created = await self._stub.CreateAgentProfile(
            api.CreateAgentProfileRequest(profile=profile), metadata=caller(request)
        )
        return web.json_response(agent_json(created))

    async def get_agent(self, request: web.Request) -> web.Response:
        version = _version(request.query.get("version"))
        return web.json_response(agent_json(await self.profile(request, request.match_info["agent_id"], version)))

    async def update_agent(self, request: web.Request) -> web.Response:
        body = AGENT_UPDATE.checked(await json_body(request))
        given = body.pop("version", None)  # checked: a positive integer, if given
        agent_id = request.match_info["agent_id"]
        for attempt in range(UPDATE_ATTEMPTS):
            current = await self.profile(request, agent_id)
            if given is not None and given != current.version:
                raise ManagedAgentsError(
                    409, "version_mismatch", f"agent {agent_id!r} is at version {current.version}, not {given}"
                )
            try:
                updated = await self._stub.UpdateAgentProfile(
                    api.UpdateAgentProfileRequest(
                        profile=profile_from_update(body, current), expected_version=current.version
                    ),
                    metadata=caller(request),
                )
            except grpc.aio.AioRpcError as error:
                if given is None and call_error(error).reason == "VERSION_MISMATCH" and attempt < UPDATE_ATTEMPTS - 1:
                    continue
                raise
            return web.json_response(agent_json(updated))
        raise AssertionError("unreachable")

    async def list_versions(self, request: web.Request) -> web.Response:
        page = await self._stub.ListAgentProfileVersions(
            profile_pb2.ListAgentProfileVersionsRequest(
                agent_profile_id=request.match_info["agent_id"],
                page_size=limit(request),
                page_token=request.query.get("page", ""),
            ),
            metadata=caller(request),
        )
        data = [agent_json(version) for version in page.versions]
        return web.json_response({"data": data, "next_page": page.next_page_token or None})

    async def archive_agent(self, request: web.Request) -> web.Response:
        archived = await self._stub.ArchiveAgentProfile(
            api.ArchiveAgentProfileRequest(agent_profile_id=request.match_info["agent_id"]),
            metadata=caller(request),
        )
        return web.json_response(agent_json(archived))
