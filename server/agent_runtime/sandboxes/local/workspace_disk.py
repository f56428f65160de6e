"""A local sandbox's workspace as a filesystem of its own: an ext4 image of the sandbox's disk limit,
loop-mounted at the workspace, so the agent can fill its own disk and inode table but not the host's.

The image is allocated whole when the sandbox is created, and only from the space an unprivileged user
may take: the host's reserved blocks are never spent on a sandbox's data.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from agent_runtime.sandboxes.base import DiskUsage, SandboxUnavailable

IMAGE = "workspace.img"
# An inode takes 256 bytes of the image: at most one per KiB keeps the inode table a quarter of it.
BYTES_PER_INODE_AT_LEAST = 1024


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    if done.returncode != 0:
        raise SandboxUnavailable(f"{argv[0]} failed for the sandbox's workspace: {done.stderr.strip()}")


def create(directory: Path, workspace: Path, uid: int, size_bytes: int, inodes: int) -> None:
    """Allocates the image in `directory` and mounts it, empty and owned by uid, at `workspace`."""
    host = os.statvfs(directory)
    available = host.f_bavail * host.f_frsize
    if available < size_bytes:
        raise SandboxUnavailable(
            f"the host has {available} bytes free for sandboxes, less than the {size_bytes} a workspace takes"
        )
    image = directory / IMAGE
    with open(image, "wb") as file:
        os.posix_fallocate(file.fileno(), 0, size_bytes)
    # No journal: the filesystem does not outlive the sandbox. No reserved blocks: all of it is the agent's.
    inodes = min(inodes, size_bytes // BYTES_PER_INODE_AT_LEAST)
    _run("mkfs.ext4", "-q", "-F", "-m", "0", "-N", str(inodes), "-O", "^has_journal", "-E", "nodiscard", str(image))
    _run("mount", "-o", "loop,nosuid,nodev", str(image), str(workspace))
    (workspace / "lost+found").rmdir()
    os.chown(workspace, uid, uid)
    os.chmod(workspace, 0o700)


def remove(workspace: Path) -> None:
    """Unmounts the workspace (lazily: a process still dying may hold it); its loop device goes with it."""
    if os.path.ismount(workspace):
        with contextlib.suppress(SandboxUnavailable):
            _run("umount", "--lazy", str(workspace))


def usage(workspace: Path) -> DiskUsage:
    stats = os.statvfs(workspace)
    return DiskUsage(stats.f_bavail * stats.f_frsize, stats.f_favail, stats.f_blocks * stats.f_frsize, stats.f_files)
