"""A ModelProxy serving one upstream on a loopback port, as it serves one inside a sandbox."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

from agent_runtime.modelproxy.proxy import ModelProxy, Upstream


@contextlib.asynccontextmanager
async def proxy_on_loopback(proxy: ModelProxy, upstream: Upstream, session_id: str) -> AsyncIterator[str]:
    """The proxied Messages URL, as the session's sandbox has it; the proxy is closed on the way out."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    runner = await proxy.serve(listener, upstream, session_id)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1/messages"
    finally:
        await runner.cleanup()
        await proxy.close()
