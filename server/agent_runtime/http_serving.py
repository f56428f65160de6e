"""Serving an aiohttp app on a socket: the REST shim, the model proxy (inside sandboxes and shared)."""

from __future__ import annotations

import logging
import socket

from aiohttp import web

from agent_runtime.connection_guard import KEEPALIVE_SECONDS, GuardedSite
from agent_runtime.connection_limits import DEFAULT_LIMITS, ConnectionLimits

# aiohttp logs a request it cannot parse with the parser's text, which quotes the offending header (a key,
# say): this logger keeps the line and the error's type, never the text.
PROTOCOL_ERRORS = logging.getLogger("agent_runtime.http_protocol")


def _without_request_content(record: logging.LogRecord) -> bool:
    if record.exc_info and record.exc_info[1] is not None:
        record.msg = f"{record.msg} ({type(record.exc_info[1]).__name__})"
        record.exc_info, record.exc_text = None, None
    return True


PROTOCOL_ERRORS.addFilter(_without_request_content)


def listening(address: str) -> socket.socket:
    """A non-blocking TCP listener on host:port (port 0 picks a free one)."""
    host, _, port = address.rpartition(":")
    listener = socket.create_server((host, int(port)))
    listener.setblocking(False)
    return listener


def shown(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"{host}:{port}"


async def serve_app(
    app: web.Application, listener: socket.socket, limits: ConnectionLimits = DEFAULT_LIMITS
) -> web.AppRunner:
    """Serves `app` on `listener`, its connections within `limits`, until the returned runner is cleaned up."""
    runner = web.AppRunner(app, access_log=None, logger=PROTOCOL_ERRORS, keepalive_timeout=KEEPALIVE_SECONDS)
    await runner.setup()
    await GuardedSite(runner, listener, limits).start()
    return runner
