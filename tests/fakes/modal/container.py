"""The files and processes of one fake container.

A "container" is a host directory holding its private /workspace and /tmp. Its processes are host
processes; where bubblewrap works they run in a mount namespace that shows the host's own folders plus
those two, so `pwd`, `ls /workspace` and absolute paths behave as in a real container. This is fidelity,
not isolation. Without bubblewrap, commands run with their working folder mapped to the host directory,
and absolute /workspace paths inside commands do not resolve.
"""

from __future__ import annotations

import functools
import os
import posixpath
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

# The container folders that are the container's own; everything else is the host's, read-only to fs-tools.
PRIVATE_FOLDERS = ("/workspace", "/tmp")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Every process of a container carries this variable (as real Modal containers do); it is how the fake
# finds the processes a container left behind, whatever session or process group they moved to.
TASK_MARKER = "MODAL_TASK_ID"


class OutsideContainer(ValueError):
    """A path the fake container does not have as its own."""


class Container:
    def __init__(self, host_root: Path, task_id: str) -> None:
        self.host_root = host_root
        self.task_id = task_id
        for folder in PRIVATE_FOLDERS:
            (host_root / folder.lstrip("/")).mkdir(parents=True, exist_ok=True)

    def host_path(self, container_path: str) -> Path:
        """Where a container path lives on the host; only paths in the container's own folders have one."""
        if not container_path.startswith("/"):
            raise OutsideContainer(f"{container_path!r} is not absolute")
        normal = posixpath.normpath(container_path)
        for folder in PRIVATE_FOLDERS:
            if normal == folder or normal.startswith(folder + "/"):
                return self.host_root / normal.lstrip("/")
        raise OutsideContainer(f"{container_path!r} is outside the fake container's {', '.join(PRIVATE_FOLDERS)}")

    def contains(self, host_path: Path) -> bool:
        """Whether a host path, symbolic links resolved, is inside this container's folders."""
        resolved, root = os.path.realpath(host_path), os.path.realpath(self.host_root)
        return resolved == root or resolved.startswith(root + os.sep)

    def command(self, argv: Sequence[str], workdir: str) -> tuple[list[str], Path | None]:
        """The host argv and working folder that run `argv` in the container at `workdir`."""
        if not mount_namespaces_work():
            return list(argv), self.host_path(workdir)
        binds = [arg for folder in PRIVATE_FOLDERS for arg in ("--bind", str(self.host_path(folder)), folder)]
        # --die-with-parent: should the fake's process die, the command dies with it (its background
        # processes are left to kill_all, or atexit).
        return ["bwrap", "--die-with-parent", *_host_binds(), *binds, "--chdir", workdir, "--", *argv], None

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        base = {"PATH": DEFAULT_PATH, TASK_MARKER: self.task_id}
        if not mount_namespaces_work():
            base["TMPDIR"] = str(self.host_path("/tmp"))
        return {**base, **env, TASK_MARKER: self.task_id}

    def kill_all(self) -> None:
        """SIGKILL to every process that belongs to this container, background ones included."""
        marker = f"\0{TASK_MARKER}={self.task_id}\0".encode()
        for _ in range(5):  # again, for processes forked while the last round ran
            found = False
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/environ", "rb") as environ:
                        if marker not in b"\0" + environ.read():
                            continue
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
                except (FileNotFoundError, ProcessLookupError, PermissionError):
                    continue
            if not found:
                return


@functools.cache
def _host_binds() -> tuple[str, ...]:
    args: list[str] = []
    for entry in sorted(os.scandir("/"), key=lambda e: e.name):
        path = "/" + entry.name
        if path in PRIVATE_FOLDERS:
            continue
        if entry.is_symlink():
            args += ["--symlink", os.readlink(path), path]
        elif entry.is_dir():
            args += ["--dev-bind", path, path]
    return tuple(args)


@functools.cache
def mount_namespaces_work() -> bool:
    """Whether bubblewrap can give fake containers their own /workspace on this machine."""
    with tempfile.TemporaryDirectory() as scratch:
        probe = Container(Path(scratch), "probe")
        binds = [arg for folder in PRIVATE_FOLDERS for arg in ("--bind", str(probe.host_path(folder)), folder)]
        try:
            done = subprocess.run(
                ["bwrap", *_host_binds(), *binds, "--chdir", "/workspace", "--", "/bin/sh", "-c", "pwd"],
                capture_output=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0 and done.stdout == b"/workspace\n"
