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
from tests.fakes.modal import fake_modal_provider


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


@contextlib.asynccontextmanager
async def modal_provider(root: Path) -> AsyncIterator[SandboxProvider]:
    """The real modal client against the fake control plane; any RPC the fake lacks fails the test."""
    async with fake_modal_provider() as provider:
        yield provider


PROVIDERS: dict[str, Callable[[Path], AbstractAsyncContextManager[SandboxProvider]]] = {
    "local": local_provider,
    "modal": modal_provider,
}
