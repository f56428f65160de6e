"""What happens to a loaded session while nobody writes to it: its sandbox's health is checked every
few seconds, its workspace is saved every sync interval, and after the idle timeout it is unloaded
(workspace saved, sandbox ended); the next message brings it back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agent_runtime.errors import ApiError
from agent_runtime.sessions.live_session import LiveSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    sync_interval: float
    idle_timeout: float
    health_interval: float = 2.0


async def look_after(live: LiveSession, timing: Timing, unload: Callable[[LiveSession], Awaitable[None]]) -> None:
    """Runs until the session is unloaded (here, or by whoever cancels it)."""
    loop = asyncio.get_running_loop()
    last_sync = loop.time()
    while True:
        await asyncio.sleep(min(timing.health_interval, timing.sync_interval, timing.idle_timeout))
        try:
            await live.check_sandbox()
            if loop.time() - last_sync >= timing.sync_interval:
                await live.sync()
                last_sync = loop.time()
        except ApiError as error:  # storage or the sandbox are away; the next round tries again
            log.warning("looking after session %s: %s", live.session_id, error.message)
        idle = live.idle_seconds()
        if idle is not None and idle >= timing.idle_timeout:
            log.info("unloading session %s after %.0f s idle", live.session_id, idle)
            with contextlib.suppress(asyncio.CancelledError):
                await unload(live)
            return
