"""The Managed Agents API's app, mounted at /v1 on the runtime's HTTP address: the key checked first (as
`x-api-key` or `Authorization: Bearer`), every error in the Anthropic SDKs' shape, and a clear
not_found_error for what it does not serve."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
from aiohttp import web

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from agent_runtime.http_surface import key_guard
from agent_runtime.managed_agents import openapi
from agent_runtime.managed_agents.agent_routes import AgentRoutes
from agent_runtime.managed_agents.environment_routes import EnvironmentRoutes
from agent_runtime.managed_agents.errors import SHAPE, not_served
from agent_runtime.managed_agents.event_routes import EventRoutes
from agent_runtime.managed_agents.sessions_routes import SessionRoutes
from agent_runtime.rest.openapi import DESCRIBED

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

PREFIX = "/v1"


class ManagedAgentsApi:
    def __init__(self, channel: grpc.aio.Channel, api_key: str, sandbox: str) -> None:
        """`channel`: to this runtime's own gRPC API; `sandbox`: its sandbox provider's name."""
        stub: AgentRuntimeAsyncStub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
        self._key = api_key
        agents = AgentRoutes(stub)
        self._routes = (agents, EnvironmentRoutes(stub, sandbox), SessionRoutes(stub, agents), EventRoutes(stub))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[key_guard(self._key, SHAPE, "the Managed Agents API")])
        app[DESCRIBED] = openapi.paths
        for routes in self._routes:
            routes.add_to(app.router)
        app.router.add_route("*", r"/{path:[\s\S]*}", _not_served)
        return app


async def _not_served(request: web.Request) -> web.Response:
    raise not_served(f"{request.method} {PREFIX}/{request.match_info['path']}")
