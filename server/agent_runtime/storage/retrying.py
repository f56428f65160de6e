"""Waiting out a storage outage: what must be stored is tried again until storage answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from agent_runtime.errors import ApiError

log = logging.getLogger(__name__)

T = TypeVar("T")
BACKOFF_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)


async def until_stored(what: str, operation: Callable[[], Awaitable[T]]) -> T:
    """Runs `operation` until it does not fail with UNAVAILABLE; other errors are raised."""
    attempt = 0
    while True:
        try:
            return await operation()
        except ApiError as error:
            if error.code != grpc.StatusCode.UNAVAILABLE:
                raise
            delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
            log.warning("storing %s failed (%s); retrying in %.1fs", what, error.reason, delay)
            await asyncio.sleep(delay)
            attempt += 1
