"""A sandbox's way to the model: the model proxy served on a port inside it, with a token of its own.

Commands in the sandbox get ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY pointing at it, so any client there
(a CLI, an SDK) works unchanged, and the real key never enters the sandbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from agent_runtime.modelproxy.proxy import ModelProxy
from agent_runtime.sandboxes.base import Sandbox, SandboxUnavailable

log = logging.getLogger(__name__)

MODEL_PROXY_PORT = 41017  # unlikely to be taken by a dev server the agent starts


@dataclass
class ModelChannel:
    proxy: ModelProxy
    runner: web.AppRunner
    token: str

    @property
    def environment(self) -> dict[str, str]:
        return {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{MODEL_PROXY_PORT}", "ANTHROPIC_API_KEY": self.token}

    @classmethod
    async def open(cls, proxy: ModelProxy | None, sandbox: Sandbox, session_id: str) -> ModelChannel | None:
        """None when there is no proxy (no key configured) or the sandbox cannot be offered a port."""
        if proxy is None:
            return None
        try:
            listener = await sandbox.listen_inside(MODEL_PROXY_PORT)
        except SandboxUnavailable as why:
            log.info("session %s has no model channel in its sandbox: %s", session_id, why)
            return None
        return cls(proxy, await proxy.serve(listener), proxy.grant(session_id))

    async def close(self) -> None:
        self.proxy.revoke(self.token)
        await self.runner.cleanup()
