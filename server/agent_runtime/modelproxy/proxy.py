"""ModelProxy: serves the Messages API to sandboxes, each with a per-session token, and forwards to the
upstream with the real key. It counts each session's tokens and refuses requests once a session's
budget is spent; a wrong token is refused. Nothing of the real key ever leaves the runtime.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping

import aiohttp
from aiohttp import web

from agent_runtime.modelproxy.usage import Usage, UsageReader

# Headers that belong to one hop, or that the proxy sets itself.
DROPPED_REQUEST_HEADERS = {"host", "content-length", "x-api-key", "authorization", "connection", "accept-encoding"}
DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}


def _error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response({"type": "error", "error": {"type": error_type, "message": message}}, status=status)


def _presented_token(headers: Mapping[str, str]) -> str:
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else ""


class ModelProxy:
    def __init__(self, upstream_url: str, api_key: str, budget_tokens: int) -> None:
        self._upstream = upstream_url.rstrip("/")
        self._api_key = api_key
        self._budget = budget_tokens
        self._sessions_by_token: dict[str, str] = {}
        self._usage: dict[str, Usage] = {}
        self._client: aiohttp.ClientSession | None = None

    def grant(self, session_id: str) -> str:
        """A token for the session's sandbox; the session keeps its usage across tokens."""
        token = f"sess-{secrets.token_urlsafe(24)}"
        self._sessions_by_token[token] = session_id
        self._usage.setdefault(session_id, Usage())
        return token

    def revoke(self, token: str) -> None:
        self._sessions_by_token.pop(token, None)

    def usage(self, session_id: str) -> Usage:
        return self._usage.get(session_id, Usage())

    async def serve(self, listener: socket.socket) -> web.AppRunner:
        """Serves on `listener` (a socket inside a sandbox) until the returned runner is cleaned up."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, listener).start()
        return runner

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        session_id = self._sessions_by_token.get(_presented_token(request.headers))
        if session_id is None:
            return _error(401, "authentication_error", "this token is not valid for the model proxy")
        usage = self._usage[session_id]
        if self._budget and usage.total >= self._budget:
            return _error(403, "permission_error", f"this session's model budget of {self._budget} tokens is spent")
        if self._client is None:
            self._client = aiohttp.ClientSession(auto_decompress=False)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED_REQUEST_HEADERS}
        headers["x-api-key"] = self._api_key
        body = await request.read()
        try:
            upstream = await self._client.request(
                request.method, self._upstream + request.path_qs, headers=headers, data=body
            )
        except aiohttp.ClientError as error:
            return _error(502, "api_error", f"the model API cannot be reached: {error}")
        async with upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in DROPPED_RESPONSE_HEADERS:
                    response.headers[key] = value
            await response.prepare(request)
            reader = UsageReader(usage, streamed="text/event-stream" in upstream.headers.get("content-type", ""))
            async for chunk in upstream.content.iter_any():
                reader.feed(chunk)
                await response.write(chunk)
            reader.close()
            await response.write_eof()
            return response
