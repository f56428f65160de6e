"""Serving an aiohttp app on a socket: the REST shim, the model proxy (inside sandboxes and shared)."""

from __future__ import annotations

import socket

from aiohttp import web


def listening(address: str) -> socket.socket:
    """A non-blocking TCP listener on host:port (port 0 picks a free one)."""
    host, _, port = address.rpartition(":")
    listener = socket.create_server((host, int(port)))
    listener.setblocking(False)
    return listener


def shown(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"{host}:{port}"


async def serve_app(app: web.Application, listener: socket.socket) -> web.AppRunner:
    """Serves `app` on `listener` until the returned runner is cleaned up."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, listener).start()
    return runner
