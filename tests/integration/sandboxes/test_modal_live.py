"""The Modal provider against the real Modal, run only where MODAL_TOKEN_ID and MODAL_TOKEN_SECRET are set.

This is what the fake cannot prove: that Modal's servers behave as the fake does. The first run builds the
image (Node and the agent CLIs), which takes minutes; later runs reuse it. Sandboxes go into the app named by
AGENT_RUNTIME_MODAL_TEST_APP (default "agent-runtime-tests") and are terminated at the end.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from agent_runtime.sandboxes.base import FileChangeKind, Sandbox, SandboxLimits, SandboxSpec
from agent_runtime.sandboxes.modal import ModalSandboxProvider
from tests.conformance.sandbox.helpers import run, shell

pytestmark = [
    pytest.mark.skipif(
        not (os.environ.get("MODAL_TOKEN_ID") and os.environ.get("MODAL_TOKEN_SECRET")),
        reason="live Modal tests need MODAL_TOKEN_ID and MODAL_TOKEN_SECRET",
    ),
    pytest.mark.timeout(1800),  # the first image build
]
SETTLE_SECONDS = 120.0  # an upper bound for file events to arrive, not a measured figure


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[ModalSandboxProvider]:
    opened = ModalSandboxProvider(app_name=os.environ.get("AGENT_RUNTIME_MODAL_TEST_APP", "agent-runtime-tests"))
    await opened.check()
    yield opened
    await opened.close()


@pytest.fixture(scope="module")
async def sandbox(provider: ModalSandboxProvider) -> AsyncIterator[Sandbox]:
    created = await provider.create(
        SandboxSpec(session_id=str(uuid.uuid4()), limits=SandboxLimits(exec_timeout_seconds=120), env={"LIVE": "yes"})
    )
    yield created
    await created.terminate()


async def test_commands_run_in_the_workspace_with_the_agent_clis(sandbox: Sandbox) -> None:
    finished = await shell(sandbox, 'pwd; echo "$LIVE $HOME"; node --version; claude --version; gemini --version')
    assert finished.result.exit_code == 0, finished.stderr
    lines = finished.stdout.decode().splitlines()
    assert lines[:2] == ["/workspace", "yes /workspace"]
    assert lines[2].startswith("v22.")


async def test_stdin_exit_codes_missing_commands_and_time_limits(sandbox: Sandbox) -> None:
    assert (await run(sandbox, ["cat"], stdin=b"round trip")).stdout == b"round trip"
    assert (await shell(sandbox, "exit 3")).result.exit_code == 3
    missing = await run(sandbox, ["no-such-command-here"])
    assert missing.result.exit_code == 127 and b"no-such-command-here" in missing.stderr
    assert (await run(sandbox, ["sleep", "60"], timeout=1)).result.timed_out


async def test_files_and_their_events(sandbox: Sandbox) -> None:
    changes = sandbox.watch()
    await sandbox.write_file("live/ünï/blob.bin", bytes(range(256)))
    assert await sandbox.read_file("live/ünï/blob.bin") == bytes(range(256))
    await shell(sandbox, "for d in 1 2 3; do mkdir -p burst/$d; for f in $(seq 1 20); do : > burst/$d/$f; done; done")
    expected = {(FileChangeKind.CREATED, f"burst/{d}/{f}") for d in (1, 2, 3) for f in range(1, 21)}
    seen: set[tuple[FileChangeKind, str]] = set()
    async with asyncio.timeout(SETTLE_SECONDS):
        async for change in changes:
            seen.add((change.kind, change.path))
            if expected <= seen:
                break
    assert {f.path for f in await sandbox.list_files()} >= {"live/ünï/blob.bin"} | {path for _, path in expected}


async def test_the_sandbox_is_found_by_its_session(provider: ModalSandboxProvider, sandbox: Sandbox) -> None:
    found = await provider.find(sandbox.session_id)
    assert found is not None and found.sandbox_id == sandbox.sandbox_id
