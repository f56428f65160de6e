"""The `local` provider: bubblewrap sandboxes under the runtime's data directory.

Each sandbox gets a directory <root>/<sandbox id>/ (mode 0700, the host's only writable path it sees
is the workspace inside), a uid of its own, and a control group. Sandboxes die with the runtime
(--die-with-parent), so after a restart there is nothing to reattach to: what a dead runtime left
behind (folders, control groups) is cleaned up when the provider opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import uuid
from pathlib import Path

from agent_runtime.sandboxes.base import SandboxSpec, SandboxUnavailable
from agent_runtime.sandboxes.local import bubblewrap, workspace_disk
from agent_runtime.sandboxes.local.cgroups import (
    CgroupLayout,
    SandboxCgroup,
    detect_layout,
    leftover_groups,
    remove_scope,
)
from agent_runtime.sandboxes.local.sandbox import BubblewrapSandbox

log = logging.getLogger(__name__)

# Sandbox uids are drawn at random from a range no system account uses, so sandboxes of runtimes
# sharing a machine do not share a uid.
UID_RANGE = (1_000_000, 2_000_000_000)
PROBE_TIMEOUT_SECONDS = 20.0


class BubblewrapProvider:
    name = "local"
    outlives_runtime = False
    installs_packages = False

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._scope = Path("agent-runtime") / hashlib.sha256(str(self._root).encode()).hexdigest()[:16]
        self._layout: CgroupLayout | None = None
        self._live: dict[str, BubblewrapSandbox] = {}

    async def check(self) -> None:
        if shutil.which("bwrap") != "/usr/bin/bwrap":
            raise SandboxUnavailable("bubblewrap is not installed (`make` installs it: apt-get install bubblewrap)")
        missing = bubblewrap.missing_native_helpers()
        if missing:
            raise SandboxUnavailable(
                f"the sandbox's native helpers are not built ({', '.join(missing)} in {bubblewrap.NATIVE}):"
                " run `make install`"
            )
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "the local sandbox runs as root, to give each sandbox a uid of its own; run the runtime as root"
            )
        probe = await asyncio.create_subprocess_exec(
            "/usr/bin/bwrap", "--unshare-all", "--die-with-parent", *bubblewrap.SYSTEM, "--", "/bin/true",
            env={}, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(probe.communicate(), PROBE_TIMEOUT_SECONDS)
        if probe.returncode != 0:
            raise SandboxUnavailable(f"bubblewrap cannot create namespaces here: {stderr.decode().strip()}")

    async def open(self) -> None:
        """Prepares the root and removes what a previous run of this runtime left behind."""
        self._layout = await asyncio.to_thread(detect_layout)
        if self._layout is None:
            log.warning(
                "no writable control groups: sandboxes get per-process limits (CPU, file size, process"
                " count per uid) but no memory limit and no kill switch for detached processes"
            )
        await asyncio.to_thread(self._clean_leftovers)

    def _clean_leftovers(self) -> None:
        """Removes sandboxes of this root whose processes are all gone (a runtime that died: its sandboxes
        died with it). A sandbox with live processes belongs to a running process sharing the root."""
        self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._layout is None:
            return  # without control groups a live sandbox cannot be told from a dead one
        names = {p.name for p in leftover_groups(self._layout, self._scope)} | {p.name for p in self._root.iterdir()}
        for name in sorted(names):
            cgroup = SandboxCgroup(self._layout, self._scope / name)
            if cgroup.pids():
                continue
            log.info("removing sandbox %s, left by an earlier run", name)
            cgroup.kill()
            workspace_disk.remove(self._root / name / "workspace")
            shutil.rmtree(self._root / name, ignore_errors=True)

    async def create(self, spec: SandboxSpec) -> BubblewrapSandbox:
        making = asyncio.ensure_future(self._make(spec))
        try:
            return await asyncio.shield(making)
        except asyncio.CancelledError:
            # The caller gave up (an interrupted turn, a lost lease) while the sandbox was being made: what was
            # begun (its disk mounted, its processes started) is finished, then ended, so nothing is left.
            with contextlib.suppress(Exception):
                made = await making
                if self._live.get(spec.session_id) is made:
                    del self._live[spec.session_id]
                await made.terminate()
            raise

    async def _make(self, spec: SandboxSpec) -> BubblewrapSandbox:
        sandbox_id = f"local-{uuid.uuid4()}"
        uid = UID_RANGE[0] + secrets.randbelow(UID_RANGE[1] - UID_RANGE[0])
        directory = self._root / sandbox_id
        cgroup = SandboxCgroup(self._layout, self._scope / sandbox_id) if self._layout else None
        await asyncio.to_thread(self._prepare, directory, uid, cgroup, spec)
        sandbox = BubblewrapSandbox(sandbox_id, spec, directory, uid, cgroup)
        try:
            await sandbox.start()
        except BaseException:
            await sandbox.terminate()  # its disk and folder go with it
            raise
        self._live[spec.session_id] = sandbox
        return sandbox

    @staticmethod
    def _prepare(directory: Path, uid: int, cgroup: SandboxCgroup | None, spec: SandboxSpec) -> None:
        directory.mkdir(mode=0o700)
        workspace = directory / "workspace"
        workspace.mkdir(mode=0o700)
        try:
            workspace_disk.create(directory, workspace, uid, spec.limits.disk_bytes, spec.limits.disk_inodes)
            if cgroup is not None:
                cgroup.create(spec.limits.memory_bytes, spec.limits.max_processes)
        except BaseException:
            workspace_disk.remove(workspace)
            shutil.rmtree(directory, ignore_errors=True)
            raise

    async def find(self, session_id: str) -> BubblewrapSandbox | None:
        sandbox = self._live.get(session_id)
        if sandbox is not None and not (await sandbox.poll()).running:
            del self._live[session_id]
            return None
        return sandbox

    async def close(self) -> None:
        for sandbox in list(self._live.values()):
            await sandbox.terminate()
        self._live.clear()
        if self._layout is not None:
            await asyncio.to_thread(remove_scope, self._layout, self._scope)
