"""A control group per sandbox: memory (swap included) and process-count limits, and a kill switch
that reaches every process, however it detached itself.

Works on cgroup v1 hierarchies with the v2 "unified" tree beside them (hybrid, as on the project's
machines) and on pure cgroup v2. Group paths are agent-runtime/<scope>/<sandbox id>, the scope being
one runtime's sandboxes directory, so a runtime cleans up only what it created.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CgroupLayout:
    """Where the groups go: the hierarchies to join, and the one whose cgroup.kill ends them all."""

    limit_dirs: dict[str, Path]  # "memory" / "pids" -> hierarchy root
    kill_root: Path | None
    v2: bool


def detect_layout() -> CgroupLayout | None:
    """The writable cgroup layout of this machine, or None when there is none (not root, say)."""
    if not os.access(ROOT, os.W_OK):
        return None
    controllers = ROOT / "cgroup.controllers"
    if controllers.exists():  # pure v2
        available = set(controllers.read_text().split())
        if not {"memory", "pids"} <= available:
            return None
        return CgroupLayout({"memory": ROOT, "pids": ROOT}, ROOT, v2=True)
    dirs = {name: ROOT / name for name in ("memory", "pids") if os.access(ROOT / name, os.W_OK)}
    if len(dirs) < 2:
        return None
    unified = ROOT / "unified"
    kill_root = unified if (unified / "cgroup.procs").exists() and os.access(unified, os.W_OK) else None
    return CgroupLayout(dirs, kill_root, v2=False)


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _enable_v2_controllers(root: Path, group: Path) -> None:
    """In v2 a group's limits need its parents to delegate the controllers."""
    parent = root
    for part in group.relative_to(root).parts[:-1]:
        with contextlib.suppress(OSError):  # already enabled, or the root refuses and limits fail loudly later
            _write(parent / "cgroup.subtree_control", "+memory +pids")
        parent = parent / part
    with contextlib.suppress(OSError):
        _write(parent / "cgroup.subtree_control", "+memory +pids")


class SandboxCgroup:
    def __init__(self, layout: CgroupLayout, relative: Path) -> None:
        self._layout = layout
        self._memory = layout.limit_dirs["memory"] / relative
        self._pids = layout.limit_dirs["pids"] / relative
        self._kill = layout.kill_root / relative if layout.kill_root else None
        # In v2 all three are one directory.
        self._dirs = list(dict.fromkeys([self._memory, self._pids, *([self._kill] if self._kill else [])]))

    @property
    def procs_files(self) -> list[Path]:
        """Every cgroup.procs a sandbox process must join."""
        return [d / "cgroup.procs" for d in self._dirs]

    def create(self, memory_bytes: int, max_processes: int) -> None:
        for directory in self._dirs:
            if self._layout.v2:
                _enable_v2_controllers(ROOT, directory)
            directory.mkdir(parents=True, exist_ok=True)
        if self._layout.v2:
            _write(self._memory / "memory.max", str(memory_bytes))
            with contextlib.suppress(OSError):  # no swap accounting on this kernel
                _write(self._memory / "memory.swap.max", "0")
        else:
            _write(self._memory / "memory.limit_in_bytes", str(memory_bytes))
            with contextlib.suppress(OSError):
                _write(self._memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
        _write(self._pids / "pids.max", str(max_processes))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError):
                found.update(int(line) for line in procs.read_text().split())
        return found

    def kill(self) -> None:
        """Ends every process in the group and removes the group."""
        if self._kill and (self._kill / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(self._kill / "cgroup.kill", "1")
        for _ in range(100):
            remaining = self.pids()
            if not remaining:
                break
            for pid in remaining:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)
        for directory in self._dirs:
            _remove_group(directory)


def _remove_group(directory: Path) -> None:
    """rmdir a group once its processes are gone (the kernel needs a moment after a kill)."""
    for _ in range(100):
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
    log.warning("could not remove cgroup %s", directory)


def remove_scope(layout: CgroupLayout, scope: Path) -> None:
    """Removes the scope's own folders once no sandbox group is left in them."""
    for root in {*layout.limit_dirs.values(), *([layout.kill_root] if layout.kill_root else [])}:
        with contextlib.suppress(OSError):
            (root / scope).rmdir()


def leftover_groups(layout: CgroupLayout, scope: Path) -> list[Path]:
    """Groups of this scope that a previous run left behind (their sandbox ids)."""
    names: set[str] = set()
    for root in {*layout.limit_dirs.values(), *([layout.kill_root] if layout.kill_root else [])}:
        directory = root / scope
        if directory.is_dir():
            names.update(child.name for child in directory.iterdir() if child.is_dir())
    return [scope / name for name in sorted(names)]
