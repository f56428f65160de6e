"""Health, finding a session's sandbox, and the end of a sandbox."""

from __future__ import annotations

import uuid

import grpc
import pytest

from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import SandboxProvider, SandboxSpec
from tests.conformance.sandbox.conftest import TEST_LIMITS
from tests.conformance.sandbox.helpers import shell


async def test_a_sandbox_is_found_by_its_session_until_terminated(provider: SandboxProvider) -> None:
    session_id = str(uuid.uuid4())
    sandbox = await provider.create(SandboxSpec(session_id=session_id, limits=TEST_LIMITS))
    assert (await sandbox.poll()).running
    found = await provider.find(session_id)
    assert found is not None and found.sandbox_id == sandbox.sandbox_id
    assert await provider.find(str(uuid.uuid4())) is None

    await sandbox.terminate()
    await sandbox.terminate()  # twice is fine
    assert not (await sandbox.poll()).running
    assert await provider.find(session_id) is None
    for attempt in (shell(sandbox, "true"), sandbox.read_file("a.txt"), sandbox.write_file("a.txt", b"")):
        with pytest.raises(ApiError) as dead:
            await attempt
        assert (dead.value.code, dead.value.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SANDBOX_TERMINATED")


async def test_sandboxes_do_not_share_a_workspace(provider: SandboxProvider) -> None:
    one = await provider.create(SandboxSpec(session_id=str(uuid.uuid4()), limits=TEST_LIMITS))
    two = await provider.create(SandboxSpec(session_id=str(uuid.uuid4()), limits=TEST_LIMITS))
    try:
        await one.write_file("mine.txt", b"one's")
        assert await two.list_files() == []
        assert (await shell(two, "ls -A /workspace")).stdout == b""
    finally:
        await one.terminate()
        await two.terminate()
