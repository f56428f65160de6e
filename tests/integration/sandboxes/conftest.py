"""The local provider, for the tests that only a real machine-level sandbox can answer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from agent_runtime.sandboxes.base import Sandbox, SandboxLimits, SandboxProvider, SandboxSpec
from tests.conformance.sandbox.providers import local_provider

MakeSandbox = Callable[..., Coroutine[Any, Any, Sandbox]]


@pytest.fixture(scope="module")
async def local(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SandboxProvider]:
    async with local_provider(tmp_path_factory.mktemp("local")) as provider:
        yield provider


@pytest.fixture
async def make_sandbox(local: SandboxProvider) -> AsyncIterator[MakeSandbox]:
    made: list[Sandbox] = []

    async def make(**limits: Any) -> Sandbox:
        sandbox = await local.create(SandboxSpec(session_id=str(uuid.uuid4()), limits=SandboxLimits(**limits)))
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        await sandbox.terminate()


REPO = Path(__file__).resolve().parents[3]
