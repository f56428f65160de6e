"""The Managed Agents API's app, mounted at /v1 on the runtime's HTTP address: the key checked first (as
`x-api-key` or `Authorization: Bearer`), every error in the Anthropic SDKs' shape, and a clear
not_found_error for what it does not serve."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import grpc
from aiohttp import web

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from agent_runtime.key_check import presented_key, refusal
from agent_runtime.managed_agents import openapi
from agent_runtime.managed_agents.agent_routes import AgentRoutes
from agent_runtime.managed_agents.environment_routes import EnvironmentRoutes
from agent_runtime.managed_agents.errors import (
    ManagedAgentsError,
    api_error_response,
    error_response,
    not_served,
    rpc_error_response,
)
from agent_runtime.managed_agents.event_routes import EventRoutes
from agent_runtime.managed_agents.requests import KEY
from agent_runtime.managed_agents.sessions_routes import SessionRoutes
from agent_runtime.rest.errors import Handler
from agent_runtime.rest.openapi import DESCRIBED

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

log = logging.getLogger(__name__)
PREFIX = "/v1"


class ManagedAgentsApi:
    def __init__(self, channel: grpc.aio.Channel, api_key: str, sandbox: str) -> None:
        """`channel`: to this runtime's own gRPC API; `sandbox`: its sandbox provider's name."""
        stub: AgentRuntimeAsyncStub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
        self._key = api_key.encode()
        agents = AgentRoutes(stub)
        self._routes = (agents, EnvironmentRoutes(stub, sandbox), SessionRoutes(stub, agents), EventRoutes(stub))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guarded])
        app[DESCRIBED] = openapi.paths
        for routes in self._routes:
            routes.add_to(app.router)
        app.router.add_route("*", r"/{path:[\s\S]*}", _not_served)
        return app

    @web.middleware
    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        presented = presented_key(request.headers.get("Authorization"), request.headers.get("X-Api-Key"))
        refused = refusal(presented, self._key)
        if refused is not None:
            return api_error_response(refused)
        request[KEY] = presented or ""
        try:
            return await handler(request)
        except ManagedAgentsError as error:
            return error.response()
        except grpc.aio.AioRpcError as error:
            return rpc_error_response(error)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            return error_response(error.status, "http_error", error.reason)
        except Exception:
            log.exception("the Managed Agents API failed on %s %s", request.method, request.path)
            return error_response(500, "internal", "internal error")


async def _not_served(request: web.Request) -> web.Response:
    raise not_served(f"{request.method} {PREFIX}/{request.match_info['path']}")
