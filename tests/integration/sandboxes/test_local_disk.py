"""A local sandbox's workspace is a filesystem of its own, and its /tmp a sized tmpfs: an agent fills its
own disk and inode table, not the host's, and the space is the host's unreserved space, taken up front."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from agent_runtime.sandboxes.base import SandboxLimits, SandboxProvider, SandboxSpec, SandboxUnavailable
from agent_runtime.sandboxes.local.sandbox import BubblewrapSandbox
from tests.conformance.sandbox.helpers import run, shell
from tests.conformance.sandbox.providers import local_provider
from tests.integration.sandboxes.conftest import MakeSandbox

MIB = 1024 * 1024

# Creates empty files until the filesystem refuses; prints how many and why it stopped.
FILL_INODES = r"""
import os
count = 0
try:
    while True:
        open(f"f{count}", "w").close()
        count += 1
except OSError as error:
    print(count, error.strerror)
"""


def loop_devices_of(image: str) -> str:
    return subprocess.run(["losetup", "-j", image], capture_output=True, text=True).stdout


def host_available(sandbox: BubblewrapSandbox) -> int:
    stats = os.statvfs(sandbox.workspace.parent)
    return stats.f_bavail * stats.f_frsize


async def test_the_workspace_and_tmp_fill_up_at_the_disk_limit(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(disk_bytes=64 * MIB)
    assert isinstance(sandbox, BubblewrapSandbox)
    before = host_available(sandbox)

    workspace = await shell(sandbox, "dd if=/dev/zero of=fill bs=1M count=200")
    tmp = await shell(sandbox, "dd if=/dev/zero of=/tmp/fill bs=1M count=200")

    assert b"No space left on device" in workspace.stderr, workspace.stderr
    assert b"No space left on device" in tmp.stderr, tmp.stderr
    usage = await sandbox.disk_usage()
    assert usage.free_bytes < MIB and usage.limit_bytes <= 64 * MIB
    assert before - host_available(sandbox) < 8 * MIB, "the workspace's space was the sandbox's from the start"


async def test_the_workspace_runs_out_of_inodes_at_its_limit(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(disk_inodes=2000)

    count, reason = (await run(sandbox, ["python3", "-c", FILL_INODES])).stdout.decode().split(maxsplit=1)

    assert 1900 < int(count) < 4200, count
    assert reason.strip() == "No space left on device"
    usage = await sandbox.disk_usage()
    assert usage is not None and usage.free_inodes == 0


async def test_a_terminated_sandbox_gives_its_disk_back(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(disk_bytes=64 * MIB)
    assert isinstance(sandbox, BubblewrapSandbox)
    image = str(sandbox.workspace.parent / "workspace.img")
    assert loop_devices_of(image)

    await sandbox.terminate()

    assert not loop_devices_of(image)
    assert not sandbox.workspace.parent.exists()


async def test_a_workspace_larger_than_the_hosts_free_space_is_refused(local: SandboxProvider) -> None:
    stats = os.statvfs("/")
    too_large = stats.f_bavail * stats.f_frsize + 1024 * MIB

    with pytest.raises(SandboxUnavailable, match="less than the"):
        await local.create(SandboxSpec(session_id=str(uuid.uuid4()), limits=SandboxLimits(disk_bytes=too_large)))


@pytest.mark.parametrize("after_seconds", [0.0, 0.01, 0.03, 0.06])
async def test_a_sandbox_whose_making_is_given_up_leaves_nothing_behind(tmp_path: Path, after_seconds: float) -> None:
    """A turn interrupted, or a session whose lease is lost, while its sandbox is being made: the disk that was
    mounted and the processes that were started go, at whatever point the making was."""
    async with local_provider(tmp_path) as provider:
        making = asyncio.create_task(provider.create(SandboxSpec(session_id=str(uuid.uuid4()))))
        await asyncio.sleep(after_seconds)
        making.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await (await making).terminate()  # made before it was given up: ended as a caller would
        assert list((tmp_path / "sandboxes").iterdir()) == []
        assert str(tmp_path) not in Path("/proc/mounts").read_text()
