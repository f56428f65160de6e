"""The runtime serves only while its storage answers: health follows storage, checked every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from grpc_health.v1 import _async as health_aio  # the module grpc_health.v1.health exposes as .aio

from agent_runtime.rpc.server_setup import set_serving
from agent_runtime.storage.client import StorageClient

log = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 2.0


async def follow_storage_health(
    storage: StorageClient, health_servicer: health_aio.HealthServicer, services: Sequence[str]
) -> None:
    """Runs until cancelled; sets SERVING or NOT_SERVING whenever storage's answer changes."""
    serving: bool | None = None
    while True:
        now_serving = await storage.is_serving()
        if now_serving != serving:
            await set_serving(health_servicer, services, now_serving)
            if now_serving:
                log.info("storage at %s answers: SERVING", storage.address)
            else:
                log.warning("storage at %s does not answer: NOT_SERVING", storage.address)
            serving = now_serving
        await asyncio.sleep(CHECK_INTERVAL_SECONDS)
