"""What a stranger's connections can hold of an HTTP listener (the REST shim, the model proxies): at most
`max_connections` at once, the ones past it answered 503 and closed at once, and each request head due
whole within `head_seconds` of its first byte (of the connection's opening, for the first), or the
connection is closed. aiohttp closes idle keep-alive connections itself (KEEPALIVE_SECONDS). A head with
control bytes in it is answered 400 here, without the echo of aiohttp's own answer.

The guard reads the bytes as they pass to aiohttp only to tell where a head ends and its body (by
Content-Length) ends; a chunked body ends the watch of that connection, as aiohttp bounds what it reads
of a body nobody asked for, and so does an upgrade to a WebSocket, whose frames are not requests.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from aiohttp import web

from agent_runtime.connection_limits import ConnectionLimits

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 60.0
HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024  # aiohttp refuses larger heads itself
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r]*chunked", re.IGNORECASE)
# A request to switch protocols (a WebSocket's): what follows its head is frames, not requests.
UPGRADE = re.compile(rb"\r\nupgrade:", re.IGNORECASE)
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
# Control bytes no request head may hold (HTTP allows a tab); aiohttp's own answer to one quotes the line
# it is in, a credential maybe, so the guard answers it instead.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MALFORMED = (
    b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 55"
    b'\r\n\r\n{"code": 3, "message": "the request head is malformed"}'
)
LOG_EVERY_SECONDS = 10.0


class _Tally:
    """Counts refusals and logs them at most once per LOG_EVERY_SECONDS, so a flood cannot fill the log."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._logged_at = 0.0

    def add(self, what: str) -> None:
        self._counts[what] = self._counts.get(what, 0) + 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_SECONDS:
            log.warning("HTTP connections refused or cut since the last report: %s", self._counts)
            self._counts, self._logged_at = {}, now


class _Watch:
    """Where a connection's bytes stand: in a head (and since when), in a body, between requests, or no
    longer watched."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.body_left = 0
        self.head_started: float | None = time.monotonic()  # the first head is due from the opening
        self.watched = True
        self.malformed = False

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self.watched:
            if self.body_left:
                taken = min(self.body_left, len(view))
                self.body_left -= taken
                view = view[taken:]
                continue
            if self.head_started is None:
                self.head_started = time.monotonic()
            self.head += view
            view = memoryview(b"")
            end = self.head.find(HEAD_END)
            if CONTROL_BYTES.search(self.head, 0, end if end >= 0 else len(self.head)):
                self.malformed, self.watched = True, False
                continue
            if end < 0:
                self.watched = len(self.head) <= MAX_HEAD_BYTES
                continue
            head, rest = bytes(self.head[: end + len(HEAD_END)]), bytes(self.head[end + len(HEAD_END) :])
            self.head, self.head_started = bytearray(), None
            if CHUNKED.search(head) or UPGRADE.search(head):
                self.watched = False
                continue
            length = CONTENT_LENGTH.search(head)
            self.body_left = int(length.group(1)) if length else 0
            view = memoryview(rest)


class _GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, behind the guard."""

    def __init__(self, inner: Any, guard: _Guard) -> None:
        self._inner, self._guard = inner, guard
        self._watch = _Watch()
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._guard.admit(self):
            transport.write(BUSY)
            transport.close()
            return
        self._inner.connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._watch.feed(data)
        if self._watch.malformed:
            self._guard.tally.add("malformed request head")
            assert self._transport is not None
            self._transport.write(MALFORMED)
            self._transport.close()
            return
        self._arm()
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._guard.release(self):
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def _arm(self) -> None:
        """A timer for the head in progress, if one is, at its deadline."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        started = self._watch.head_started
        if self._watch.watched and started is not None:
            deadline = started + self._guard.limits.head_seconds - time.monotonic()
            self._timer = asyncio.get_running_loop().call_later(max(deadline, 0), self._too_slow)

    def _too_slow(self) -> None:
        self._guard.tally.add("request head too slow")
        assert self._transport is not None
        self._transport.close()


class _Guard:
    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.tally = _Tally()
        self._open: set[_GuardedConnection] = set()

    def admit(self, connection: _GuardedConnection) -> bool:
        if len(self._open) >= self.limits.max_connections:
            self.tally.add("too many connections")
            return False
        self._open.add(connection)
        return True

    def release(self, connection: _GuardedConnection) -> bool:
        """Whether the connection had been admitted."""
        if connection not in self._open:
            return False
        self._open.discard(connection)
        return True


class GuardedSite(web.SockSite):
    """A SockSite whose connections pass the guard first."""

    def __init__(self, runner: web.BaseRunner, sock: Any, limits: ConnectionLimits) -> None:
        super().__init__(runner, sock)
        self._guard = _Guard(limits)

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner, which stops it
        server = self._runner.server
        assert server is not None
        guard = self._guard
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _GuardedConnection(server(), guard), sock=self._sock
        )
