"""ModelProxy: serves the vendors' model APIs to sandboxes, each session with a token of its own, and
forwards to the upstreams with the real keys, for the vendors' model endpoints only. It counts each
session's tokens (all vendors together, every response format) and refuses requests once a session's
budget is spent, counting what the requests in flight may still spend; a wrong token is refused. Nothing
of a real key ever leaves the runtime.

What a sandbox can make the runtime hold is bounded: a request body is at most the model APIs' own
limit (32 MB for Anthropic's Messages API), and a session has at most a few requests in flight; more
are refused as rate limited, which the CLIs retry.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from agent_runtime.http_serving import serve_app
from agent_runtime.modelproxy.upstream_health import UpstreamHealth
from agent_runtime.modelproxy.usage import Usage
from agent_runtime.modelproxy.vendors import Vendor

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Headers that belong to one hop, or that the proxy sets itself.
DROPPED_REQUEST_HEADERS = {"host", "content-length", "connection", "accept-encoding"}
DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}
MAX_REQUEST_BYTES = 32 * 1024 * 1024
MAX_REQUESTS_IN_FLIGHT = 8  # per session: the main loop, subagents and side calls at once


@dataclass(frozen=True)
class Upstream:
    vendor: Vendor
    url: str
    api_key: str


class ModelProxy:
    def __init__(self, upstreams: Sequence[Upstream], budget_tokens: int) -> None:
        self.upstreams = list(upstreams)
        self._budget = budget_tokens
        self._sessions_by_token: dict[str, str] = {}
        self._usage: dict[str, Usage] = {}
        self._in_flight: dict[str, int] = {}
        self._reserved: dict[str, int] = {}  # tokens the session's requests in flight may still spend
        self._key_refusals: dict[str, asyncio.Future[str]] = {}
        self._health = UpstreamHealth()
        self._client: aiohttp.ClientSession | None = None

    def grant(self, session_id: str) -> str:
        """A token for the session's sandbox; the session keeps its usage across tokens."""
        token = f"sess-{secrets.token_urlsafe(24)}"
        self._sessions_by_token[token] = session_id
        self._usage.setdefault(session_id, Usage())
        return token

    def revoke(self, token: str) -> None:
        self._sessions_by_token.pop(token, None)

    def key_refusal(self, session_id: str) -> asyncio.Future[str]:
        """Resolved, with the reason, once an upstream refuses the real key (401 or 403) on one of the
        session's requests from now on: no retry of its client's will fare better."""
        future = self._key_refusals.get(session_id)
        if future is None or future.done():
            future = self._key_refusals[session_id] = asyncio.get_running_loop().create_future()
        return future

    def usage(self, session_id: str) -> Usage:
        return self._usage.get(session_id, Usage())

    async def serve(self, listener: socket.socket, upstream: Upstream, session_id: str) -> web.AppRunner:
        """Serves the upstream's API on `listener` (a socket inside the session's sandbox) until the runner is
        cleaned up; only that session's tokens work there."""

        async def forward(request: web.Request) -> web.StreamResponse:
            return await self._forward(request, upstream, request.path, session_id)

        return await _served(listener, "/{tail:.*}", forward)

    async def serve_shared(self, listener: socket.socket) -> web.AppRunner:
        """Serves every upstream on one listener, each under /<vendor name>, for sandboxes that cannot be
        offered a port of their own (they reach it over the network)."""
        by_name = {upstream.vendor.name: upstream for upstream in self.upstreams}

        async def forward(request: web.Request) -> web.StreamResponse:
            upstream = by_name.get(request.match_info["vendor"])
            if upstream is None:
                raise web.HTTPNotFound(text=f"no model API is served under /{request.match_info['vendor']}")
            return await self._forward(request, upstream, "/" + request.match_info["tail"])

        return await _served(listener, "/{vendor}/{tail:.*}", forward)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def _forward(
        self, request: web.Request, upstream: Upstream, path: str, listener_session: str | None = None
    ) -> web.StreamResponse:
        """`listener_session`: the session whose sandbox the listener is in; None for the shared listener."""
        vendor = upstream.vendor
        session_id = self._sessions_by_token.get(vendor.presented_token(request))
        if session_id is None or listener_session not in (None, session_id):
            return vendor.refusal(401, "this token is not valid for the model proxy here")
        # Matched as decoded, forwarded as matched: a path that needed percent-escapes is refused whole.
        encoded = request.raw_path.partition("?")[0] != request.path
        if encoded or not vendor.forwards(request.method, path):
            return vendor.refusal(404, f"{request.method} {path} is not a model endpoint this proxy forwards")
        if self._in_flight.get(session_id, 0) >= MAX_REQUESTS_IN_FLIGHT:
            return vendor.refusal(429, f"this session has {MAX_REQUESTS_IN_FLIGHT} model requests in flight")
        self._in_flight[session_id] = self._in_flight.get(session_id, 0) + 1
        try:
            return await self._forward_within_budget(request, upstream, path, session_id)
        finally:
            self._in_flight[session_id] -= 1

    async def _forward_within_budget(
        self, request: web.Request, upstream: Upstream, path: str, session_id: str
    ) -> web.StreamResponse:
        """Forwards once what the session has spent, with what its requests in flight may still spend,
        leaves room in its budget; the request's own most is reserved until it is answered."""
        vendor = upstream.vendor
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return vendor.refusal(413, f"a model request may be at most {MAX_REQUEST_BYTES} bytes")
        usage, reserved = self._usage[session_id], self._reserved.get(session_id, 0)
        if self._budget and usage.total + reserved >= self._budget:
            return vendor.refusal(403, f"this session's model budget of {self._budget} tokens is spent")
        most = vendor.most_tokens(body)
        self._reserved[session_id] = reserved + most
        try:
            return await self._forward_counted(request, upstream, path, body, session_id)
        finally:
            self._reserved[session_id] -= most

    async def _forward_counted(
        self, request: web.Request, upstream: Upstream, path: str, body: bytes, session_id: str
    ) -> web.StreamResponse:
        vendor, usage = upstream.vendor, self._usage[session_id]
        if self._client is None:
            self._client = aiohttp.ClientSession(auto_decompress=False)
        passed = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED_REQUEST_HEADERS}
        headers, query = vendor.authorized(passed, request.query, upstream.api_key)
        try:
            answer = await self._client.request(
                request.method, upstream.url.rstrip("/") + path, params=query, headers=headers, data=body,
            )  # fmt: skip
        except aiohttp.ClientError as error:
            self._health.failed(vendor.name, f"could not be reached: {error}")
            return vendor.refusal(502, f"the model API cannot be reached: {error}")
        async with answer:
            if answer.status >= 500 or answer.status == 429:
                self._health.failed(vendor.name, f"{answer.status} {answer.reason}")
            else:
                self._health.answered(vendor.name)
            if answer.status in (401, 403):
                self._key_refused(session_id, vendor, f"{answer.status} {answer.reason}")
            response = web.StreamResponse(status=answer.status)
            for key, value in answer.headers.items():
                if key.lower() not in DROPPED_RESPONSE_HEADERS:
                    response.headers[key] = value
            await response.prepare(request)
            reader = vendor.usage_reader(usage, streamed="text/event-stream" in answer.headers.get("content-type", ""))
            async for chunk in answer.content.iter_any():
                reader.feed(chunk)
                await response.write(chunk)
            reader.close()
            await response.write_eof()
            return response

    def _key_refused(self, session_id: str, vendor: Vendor, status: str) -> None:
        refusal = self._key_refusals.get(session_id)
        if refusal is not None and not refusal.done():
            refusal.set_result(
                f"the {vendor.name} model API refused the runtime's key ({status}): check its {vendor.key_variable}"
            )


async def _served(listener: socket.socket, route: str, handler: Handler) -> web.AppRunner:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.router.add_route("*", route, handler)
    return await serve_app(app, listener)
