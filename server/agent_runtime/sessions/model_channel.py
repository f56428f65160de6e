"""A sandbox's way to the models: the model proxy served inside it, one port per vendor, with a token of
its own; or, for a sandbox elsewhere (Modal), the proxy's shared listener at a URL the operator exposes.

Commands in the sandbox get each vendor's base URL and key variables pointing at the proxy
(ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY, GOOGLE_GEMINI_BASE_URL / GEMINI_API_KEY), so any client there (a
CLI, an SDK) works unchanged, and a real key never enters the sandbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiohttp import web

from agent_runtime.modelproxy.proxy import ModelProxy
from agent_runtime.sandboxes.base import Sandbox, SandboxUnavailable

log = logging.getLogger(__name__)


@dataclass
class ModelChannel:
    proxy: ModelProxy
    token: str
    runners: list[web.AppRunner] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def open(
        cls, proxy: ModelProxy | None, sandbox: Sandbox, session_id: str, shared_url: str = ""
    ) -> ModelChannel | None:
        """The proxy served inside the sandbox; for a sandbox that cannot be offered a port, the proxy's
        shared listener at `shared_url` (its sandbox may reach that host and nothing else). None when there is
        no proxy (no key configured) or no way to it."""
        if proxy is None:
            return None
        channel = cls(proxy, proxy.grant(session_id))
        try:
            for upstream in proxy.upstreams:
                listener = await sandbox.listen_inside(upstream.vendor.port)
                channel.runners.append(await proxy.serve(listener, upstream, session_id))
                base_url = f"http://127.0.0.1:{upstream.vendor.port}"
                channel.environment |= upstream.vendor.environment(base_url, channel.token)
        except SandboxUnavailable as why:
            await channel.close()
            if not shared_url:
                log.info("session %s has no model channel in its sandbox: %s", session_id, why)
                return None
            channel = cls(proxy, proxy.grant(session_id))
            for upstream in proxy.upstreams:
                base_url = f"{shared_url.rstrip('/')}/{upstream.vendor.name}"
                channel.environment |= upstream.vendor.environment(base_url, channel.token)
        return channel

    async def close(self) -> None:
        self.proxy.revoke(self.token)
        for runner in self.runners:
            await runner.cleanup()
