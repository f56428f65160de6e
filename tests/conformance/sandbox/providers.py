"""The providers the sandbox conformance suite runs against, each as an async context manager."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from agent_runtime.sandboxes.base import SandboxProvider, SandboxUnavailable
from agent_runtime.sandboxes.local.provider import BubblewrapProvider


@contextlib.asynccontextmanager
async def local_provider(root: Path) -> AsyncIterator[SandboxProvider]:
    provider = BubblewrapProvider(root / "sandboxes")
    try:
        await provider.check()
    except SandboxUnavailable as why:
        if os.geteuid() != 0:
            pytest.skip(f"LOCAL SANDBOX NOT TESTED: {why}")
        raise  # as root, a machine that cannot run bubblewrap is a failure, not a skip
    await provider.open()
    try:
        yield provider
    finally:
        await provider.close()


PROVIDERS: dict[str, Callable[[Path], AbstractAsyncContextManager[SandboxProvider]]] = {
    "local": local_provider,
}
