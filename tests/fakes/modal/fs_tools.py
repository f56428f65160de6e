"""A stand-in for Modal's `modal-sandbox-fs-tools`, the binary `sandbox.filesystem` runs in the container.

The client sends `TaskExecStart` of `/__modal/.bin/modal-sandbox-fs-tools '<json command>'`; the fake
answers such an exec itself, on the container's host folder. Output is what the client parses: JSON entries
on stdout, or `{"error_kind", "message"}` on stderr with a non-zero exit. A command the stand-in does not
know is recorded as unimplemented, like an RPC.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.fakes.modal.calls import CallLog
from tests.fakes.modal.container import Container, OutsideContainer
from tests.fakes.modal.processes import AnsweredExec, FakeExec

FS_TOOLS_PATH = "/__modal/.bin/modal-sandbox-fs-tools"

_ERROR_KINDS = {
    errno.ENOENT: "NotFound",
    errno.EISDIR: "IsDirectory",
    errno.ENOTDIR: "NotDirectory",
    errno.EACCES: "PermissionDenied",
    errno.EPERM: "PermissionDenied",
    errno.ENOTEMPTY: "DirectoryNotEmpty",
    errno.EEXIST: "PathAlreadyExists",
}


class FsError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def fs_tools_exec(container: Container, argv: Sequence[str], log: CallLog) -> FakeExec:
    command = json.loads(argv[1]) if len(argv) == 2 else {}
    name, args = next(iter(command.items())) if len(command) == 1 else ("", {})
    handler = _HANDLERS.get(name)
    if handler is None:
        log.unimplemented.append(f"fs-tools {name or argv[1:]}")
        unknown = f"the fake fs-tools does not implement {name or 'this command'}\n".encode()
        return AnsweredExec(lambda _stdin: (2, b"", unknown), reads_stdin=False)

    def answer(stdin: bytes) -> tuple[int, bytes, bytes]:
        try:
            return 0, handler(container, args, stdin), b""
        except FsError as error:
            return 1, b"", json.dumps({"error_kind": error.kind, "message": str(error)}).encode()
        except OutsideContainer as error:
            return 1, b"", json.dumps({"error_kind": "PermissionDenied", "message": str(error)}).encode()
        except OSError as error:
            kind = _ERROR_KINDS.get(error.errno or 0, "Other")
            message = f"{error.strerror} (os error {error.errno})"
            return 1, b"", json.dumps({"error_kind": kind, "message": message}).encode()

    return AnsweredExec(answer, reads_stdin=name == "WriteFile")


def _followed(container: Container, path: str) -> Path:
    """The host path of `path`, which symbolic links may not lead out of the container."""
    host = container.host_path(path)
    if not container.contains(host):
        raise FsError("PermissionDenied", f"{path} leads outside the fake container")
    return host


def _entry(container_path: str, host: Path) -> dict[str, Any]:
    info = os.lstat(host)
    kind = "symlink" if stat.S_ISLNK(info.st_mode) else "directory" if stat.S_ISDIR(info.st_mode) else "file"
    return {
        "name": host.name,
        "path": container_path,
        "type": kind,
        "size": info.st_size,
        "mode": info.st_mode,
        "permissions": stat.filemode(info.st_mode)[1:],
        "owner": str(info.st_uid),
        "group": str(info.st_gid),
        "modified_time": info.st_mtime_ns / 1e9,
        "symlink_target": os.readlink(host) if kind == "symlink" else None,
    }


def _read_file(container: Container, args: dict[str, Any], _stdin: bytes) -> bytes:
    return _followed(container, args["path"]).read_bytes()


def _write_file(container: Container, args: dict[str, Any], stdin: bytes) -> bytes:
    host = _followed(container, args["path"])
    _followed(container, str(Path(args["path"]).parent))
    try:
        host.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise FsError("NotDirectory", "Not a directory (os error 20)") from None
    host.write_bytes(stdin)
    return b""


def _list_files(container: Container, args: dict[str, Any], _stdin: bytes) -> bytes:
    host = _followed(container, args["path"])
    base = args["path"].rstrip("/")
    with os.scandir(host) as entries:
        listed = [_entry(f"{base}/{entry.name}", Path(entry.path)) for entry in entries]
    return json.dumps(listed).encode()


def _stat(container: Container, args: dict[str, Any], _stdin: bytes) -> bytes:
    host = container.host_path(args["path"])
    _followed(container, str(Path(args["path"]).parent))
    return json.dumps(_entry(args["path"], host)).encode()


def _make_directory(container: Container, args: dict[str, Any], _stdin: bytes) -> bytes:
    host = _followed(container, args["path"])
    host.mkdir(parents=bool(args.get("parents")), exist_ok=bool(args.get("parents")))
    return b""


def _remove(container: Container, args: dict[str, Any], _stdin: bytes) -> bytes:
    host = container.host_path(args["path"])
    _followed(container, str(Path(args["path"]).parent))
    if host.is_dir() and not host.is_symlink():
        if args.get("recursive"):
            shutil.rmtree(host)
        else:
            host.rmdir()
    else:
        host.unlink()
    return b""


_HANDLERS: dict[str, Callable[[Container, dict[str, Any], bytes], bytes]] = {
    "ReadFile": _read_file,
    "WriteFile": _write_file,
    "ListFiles": _list_files,
    "Stat": _stat,
    "MakeDirectory": _make_directory,
    "Remove": _remove,
}
