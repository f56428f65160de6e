"""The runtime's own access to a sandbox's workspace, from the host, never following a symlink.

The agent controls the workspace: any name in it may be a symlink to a host file (/etc/shadow, the
runtime's data). Every path is therefore walked one component at a time from a descriptor of the
workspace root, each open with O_NOFOLLOW, so nothing outside the workspace is ever reached. Files
and folders the runtime creates belong to the sandbox's uid.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from agent_runtime.sandboxes.base import IGNORED_FOLDERS, FileInfo
from agent_runtime.sandboxes.errors import checked_path, file_not_found, file_too_large, not_a_file
from agent_runtime.workspace_paths import MAX_FILE_BYTES

DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class WorkspaceFiles:
    def __init__(self, root: Path, uid: int, gid: int) -> None:
        self._root = root
        self._uid = uid
        self._gid = gid

    @contextlib.contextmanager
    def _parent(self, path: str, create: bool) -> Iterator[tuple[int, str]]:
        """A descriptor of the folder holding `path`, and the file's name in it."""
        *folders, name = checked_path(path).split("/")
        fd = os.open(self._root, DIRECTORY_FLAGS)
        try:
            for folder in folders:
                child = self._enter(fd, folder, path, create)
                os.close(fd)
                fd = child
            yield fd, name
        finally:
            os.close(fd)

    def _enter(self, parent: int, folder: str, path: str, create: bool) -> int:
        try:
            try:
                child = os.open(folder, DIRECTORY_FLAGS, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    raise file_not_found(path) from None
                with contextlib.suppress(FileExistsError):
                    os.mkdir(folder, 0o755, dir_fd=parent)
                    os.chown(folder, self._uid, self._gid, dir_fd=parent, follow_symlinks=False)
                child = os.open(folder, DIRECTORY_FLAGS, dir_fd=parent)
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.ENOTDIR):
                raise not_a_file(
                    path, f"inside {folder!r}, which is not a folder (a symlink is never followed)"
                ) from None
            raise
        return child

    def read(self, path: str) -> bytes:
        with self._parent(path, create=False) as (parent, name):
            fd = self._open_regular(parent, name, path, os.O_RDONLY)
            with os.fdopen(fd, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                if size > MAX_FILE_BYTES:
                    raise file_too_large(path, size, MAX_FILE_BYTES)
                return file.read()

    def write(self, path: str, data: bytes) -> None:
        if len(data) > MAX_FILE_BYTES:
            raise file_too_large(path, len(data), MAX_FILE_BYTES)
        with self._parent(path, create=True) as (parent, name):
            fd = self._open_regular(parent, name, path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            with os.fdopen(fd, "wb") as file:
                os.fchown(file.fileno(), self._uid, self._gid)
                file.write(data)

    @staticmethod
    def _open_regular(parent: int, name: str, path: str, flags: int) -> int:
        try:
            # O_NONBLOCK: a FIFO the agent left here must not hang the runtime.
            fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644, dir_fd=parent)
        except FileNotFoundError:
            raise file_not_found(path) from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise not_a_file(path, "a symbolic link, which is never followed") from None
            if error.errno in (errno.EISDIR, errno.ENXIO):
                raise not_a_file(path, "not a regular file") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise not_a_file(path, "not a regular file")
        os.set_blocking(fd, True)
        return fd

    def delete(self, path: str) -> None:
        with self._parent(path, create=False) as (parent, name):
            try:
                os.unlink(name, dir_fd=parent)  # removes a symlink itself, never its target
            except FileNotFoundError:
                raise file_not_found(path) from None
            except IsADirectoryError:
                raise not_a_file(path, "a folder") from None

    def scan(self) -> list[FileInfo]:
        found: list[FileInfo] = []
        self._scan(os.open(self._root, DIRECTORY_FLAGS), "", found)
        return found

    def _scan(self, fd: int, prefix: str, found: list[FileInfo]) -> None:
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    path = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name in IGNORED_FOLDERS:
                            continue
                        try:
                            child = os.open(entry.name, DIRECTORY_FLAGS, dir_fd=fd)
                        except OSError:  # gone, or swapped for a symlink, since it was listed
                            continue
                        self._scan(child, path + "/", found)
                    elif entry.is_file(follow_symlinks=False):
                        with contextlib.suppress(FileNotFoundError):
                            info = entry.stat(follow_symlinks=False)
                            found.append(FileInfo(path, info.st_size, info.st_mtime_ns))
        finally:
            os.close(fd)
