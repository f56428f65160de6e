"""The sandbox provider a runtime or an operator's command uses, by name."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from agent_runtime.sandboxes.base import SandboxProvider

PROVIDER_NAMES = ("local", "modal")


@contextlib.asynccontextmanager
async def opened_provider(name: str, data_dir: Path) -> AsyncIterator[SandboxProvider]:
    """A checked, ready provider; SandboxUnavailable says why when this machine cannot have one."""
    if name == "local":
        from agent_runtime.sandboxes.local.provider import BubblewrapProvider  # aiohttp; not for the CLI

        local = BubblewrapProvider(data_dir / "sandboxes")
        await local.check()
        await local.open()
        provider: SandboxProvider = local
    elif name == "modal":
        from agent_runtime.sandboxes.modal.provider import ModalSandboxProvider  # modal takes 0.4 s to import

        provider = ModalSandboxProvider()
        await provider.check()
    else:
        raise ValueError(f"unknown sandbox provider {name!r}")
    try:
        yield provider
    finally:
        await provider.close()
