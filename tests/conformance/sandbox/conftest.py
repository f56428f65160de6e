"""Each sandbox provider in turn; a fresh sandbox per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from agent_runtime.sandboxes.base import Sandbox, SandboxLimits, SandboxProvider, SandboxSpec
from tests.conformance.sandbox.providers import PROVIDERS

# Small enough that the limit tests run quickly, large enough for python3 and the shell tools.
TEST_LIMITS = SandboxLimits(exec_timeout_seconds=60.0)


@pytest.fixture(scope="module", params=sorted(PROVIDERS))
async def provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[SandboxProvider]:
    async with PROVIDERS[request.param](tmp_path_factory.mktemp(request.param)) as opened:
        yield opened


@pytest.fixture
async def sandbox(provider: SandboxProvider) -> AsyncIterator[Sandbox]:
    created = await provider.create(
        SandboxSpec(session_id=str(uuid.uuid4()), limits=TEST_LIMITS, env={"PROFILE_VARIABLE": "from the profile"})
    )
    yield created
    await created.terminate()
