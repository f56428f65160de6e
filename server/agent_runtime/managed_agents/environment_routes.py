"""/v1/environments: the runtime's environments through its gRPC API, and `default`, its sandbox with each
agent's own settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import environment_pb2
from agent_runtime.http_surface import caller
from agent_runtime.managed_agents.bodies import ENVIRONMENT_CREATE, ENVIRONMENT_UPDATE
from agent_runtime.managed_agents.environment_mapping import (
    DEFAULT_ENVIRONMENT_ID,
    apply_config,
    apply_metadata,
    default_environment_json,
    environment_json,
    require_known_shape,
)
from agent_runtime.managed_agents.errors import ManagedAgentsError, invalid
from agent_runtime.managed_agents.requests import flag, json_body, limit, text_field

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

UNSERVED_SCOPE = "account"


def _refuse_default(environment_id: str) -> None:
    require_known_shape(environment_id)
    if environment_id == DEFAULT_ENVIRONMENT_ID:
        raise invalid("default_environment", "the default environment is the runtime's own and cannot be changed")


class EnvironmentRoutes:
    def __init__(self, stub: AgentRuntimeAsyncStub, sandbox: str) -> None:
        """`sandbox`: the name of the runtime's sandbox provider, shown by the default environment."""
        self._stub = stub
        self._sandbox = sandbox

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/environments", self.list_environments)
        router.add_post("/environments", self.create_environment)
        router.add_get("/environments/{environment_id}", self.get_environment)
        router.add_post("/environments/{environment_id}", self.update_environment)
        router.add_post("/environments/{environment_id}/archive", self.archive_environment)
        router.add_delete("/environments/{environment_id}", self.delete_environment)

    async def list_environments(self, request: web.Request) -> web.Response:
        """Created environments newest first, then `default` on the last page."""
        page = await self._stub.ListEnvironments(
            api.ListEnvironmentsRequest(
                include_archived=flag(request, "include_archived"),
                page_size=limit(request),
                page_token=request.query.get("page", ""),
            ),
            metadata=caller(request),
        )
        data = [environment_json(environment) for environment in page.environments]
        if not page.next_page_token:
            data.append(default_environment_json(self._sandbox))
        return web.json_response({"data": data, "next_page": page.next_page_token or None})

    async def create_environment(self, request: web.Request) -> web.Response:
        body = ENVIRONMENT_CREATE.checked(await json_body(request))
        if body.get("scope") == UNSERVED_SCOPE:
            raise invalid("not_served", "environments here are the organization's: scope account is not served")
        environment = environment_pb2.Environment(
            name=text_field(body, "name", required=True) or "", description=text_field(body, "description") or ""
        )
        apply_config(body.get("config"), environment)
        apply_metadata(body.get("metadata"), environment, patch=False)
        created = await self._stub.CreateEnvironment(
            api.CreateEnvironmentRequest(environment=environment), metadata=caller(request)
        )
        return web.json_response(environment_json(created))

    async def get_environment(self, request: web.Request) -> web.Response:
        environment_id = request.match_info["environment_id"]
        require_known_shape(environment_id)
        if environment_id == DEFAULT_ENVIRONMENT_ID:
            return web.json_response(default_environment_json(self._sandbox))
        environment = await self._stub.GetEnvironment(
            api.GetEnvironmentRequest(environment_id=environment_id), metadata=caller(request)
        )
        return web.json_response(environment_json(environment))

    async def update_environment(self, request: web.Request) -> web.Response:
        """Changes what the body gives: name, description, config's networking and packages, metadata."""
        environment_id = request.match_info["environment_id"]
        _refuse_default(environment_id)
        body = ENVIRONMENT_UPDATE.checked(await json_body(request))
        current = await self._stub.GetEnvironment(
            api.GetEnvironmentRequest(environment_id=environment_id), metadata=caller(request)
        )
        changed, paths = environment_pb2.Environment(), list[str]()
        changed.CopyFrom(current)
        for field in ("name", "description"):
            if field in body:
                setattr(changed, field, text_field(body, field, required=field == "name") or "")
                paths.append(field)
        paths += apply_config(body.get("config"), changed)
        if body.get("metadata") is not None:
            apply_metadata(body["metadata"], changed, patch=True)
            paths += ["metadata", "sandbox_provider"]
        if not paths:
            return web.json_response(environment_json(current))
        updated = await self._stub.UpdateEnvironment(
            api.UpdateEnvironmentRequest(environment=changed, update_mask=field_mask_pb2.FieldMask(paths=paths)),
            metadata=caller(request),
        )
        return web.json_response(environment_json(updated))

    async def archive_environment(self, request: web.Request) -> web.Response:
        environment_id = request.match_info["environment_id"]
        _refuse_default(environment_id)
        archived = await self._stub.ArchiveEnvironment(
            api.ArchiveEnvironmentRequest(environment_id=environment_id), metadata=caller(request)
        )
        return web.json_response(environment_json(archived))

    async def delete_environment(self, request: web.Request) -> web.Response:
        environment_id = request.match_info["environment_id"]
        _refuse_default(environment_id)
        deleted = await self._stub.DeleteEnvironment(
            api.DeleteEnvironmentRequest(environment_id=environment_id), metadata=caller(request)
        )
        if not deleted.deleted:
            raise ManagedAgentsError(404, "environment_not_found", f"environment {environment_id!r} does not exist")
        return web.json_response({"id": environment_id, "type": "environment_deleted"})
