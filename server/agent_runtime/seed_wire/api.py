"""The seed's wire on the runtime's HTTP address: its REST routes under /api (the key first, errors in its
shape) and its Socket.IO server at /socket.io, both calling this runtime's gRPC API over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

import grpc
from aiohttp import web

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from agent_runtime.http_surface import key_guard
from agent_runtime.rest.openapi import DESCRIBED
from agent_runtime.seed_wire import openapi
from agent_runtime.seed_wire.errors import SHAPE, error_response
from agent_runtime.seed_wire.routes import SeedRoutes
from agent_runtime.seed_wire.sockets import SeedSockets

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

PREFIX = "/api"


class SeedWire:
    def __init__(self, channel: grpc.aio.Channel, api_key: str, cors_origins: Iterable[str]) -> None:
        """`channel`: to this runtime's own gRPC API."""
        stub: AgentRuntimeAsyncStub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
        self._key = api_key
        self._routes = SeedRoutes(stub)
        self._sockets = SeedSockets(stub, api_key, cors_origins)

    def api_app(self) -> web.Application:
        """The /api routes, to be mounted at PREFIX."""
        app = web.Application(middlewares=[key_guard(self._key, SHAPE, "the seed's API")])
        app[DESCRIBED] = openapi.paths
        self._routes.add_to(app.router)
        app.router.add_route("*", r"/{path:[\s\S]*}", _unknown)
        return app

    def attach_sockets(self, app: web.Application) -> None:
        """Socket.IO on `app` (before any catch-all route of its), announcing session lists while it runs."""
        self._sockets.server.attach(app, socketio_path="socket.io")
        app.cleanup_ctx.append(self._announcing)

    async def _announcing(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self._sockets.announce_lists())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self._sockets.close()


async def _unknown(request: web.Request) -> web.Response:
    return error_response(404, "NOT_FOUND", f"no route {request.method} {PREFIX}/{request.match_info['path']}")
