"""CORS for the HTTP address: browsers at the origins an operator lists (--cors-origin) may call the REST
shim, its streams, the Managed Agents API and the seed's /api; no origin may by default. Socket.IO answers
its own (python-socketio, given the same list)."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from agent_runtime.rest.errors import Handler

METHODS = "GET, POST, PUT, PATCH, DELETE"
# What a browser's script may read of an answer besides the simple headers.
EXPOSED = "Allow, Retry-After"
SOCKET_IO = "/socket.io/"


class Cors:
    def __init__(self, origins: Iterable[str]) -> None:
        self._origins = frozenset(origins)

    def add_to(self, app: web.Application) -> None:
        app.middlewares.append(self._preflight)
        app.on_response_prepare.append(self._allow)  # streams too: their headers are sent at prepare

    def _allowed(self, request: web.Request) -> str | None:
        origin = request.headers.get("Origin")
        return origin if origin in self._origins and not request.path.startswith(SOCKET_IO) else None

    @web.middleware
    async def _preflight(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = self._allowed(request)
        if request.method != "OPTIONS" or origin is None or "Access-Control-Request-Method" not in request.headers:
            return await handler(request)
        headers = {
            "Access-Control-Allow-Methods": METHODS,
            "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", ""),
            "Access-Control-Max-Age": "600",
        }
        return web.Response(status=204, headers=headers)

    async def _allow(self, request: web.Request, response: web.StreamResponse) -> None:
        origin = self._allowed(request)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED
            response.headers.add("Vary", "Origin")
