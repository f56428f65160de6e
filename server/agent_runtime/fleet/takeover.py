"""A dead replica is replaced: every replica looks for leases that lapsed (their holder stopped renewing
them) and takes their sessions over, so a turn the dead replica left is closed and its queued messages
run without anyone asking. Replicas race for each lease; storage gives it to one."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator

from agent_runtime._gen.agentruntime.v1 import persistence_pb2
from agent_runtime.errors import ApiError
from agent_runtime.sessions.manager import SessionManager
from agent_runtime.storage.client import StorageClient

log = logging.getLogger(__name__)


async def lapsed_leases(storage: StorageClient) -> AsyncIterator[persistence_pb2.SessionLease]:
    token = ""
    while True:
        page = await storage.call(
            storage.stub.ListLapsedSessionLeases,
            persistence_pb2.ListLapsedSessionLeasesRequest(page_size=1000, page_token=token),
        )
        for lease in page.leases:
            yield lease
        token = page.next_page_token
        if not token:
            return


async def take_over_lapsed(storage: StorageClient, sessions: SessionManager, interval: float) -> None:
    """Runs until cancelled: a look every `interval` or so (spread, so replicas do not look in step)."""
    while True:
        await asyncio.sleep(interval * random.uniform(0.75, 1.25))
        try:
            async for lease in lapsed_leases(storage):
                await sessions.take_over(lease.session_id, lease.replica_id)
        except ApiError as error:  # storage is away: the next look tries again
            log.warning("looking for sessions of replicas that died: %s", error.message)
