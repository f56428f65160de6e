"""Which paths name a file inside a workspace, and how big one may be: rules callers, storage and
sandboxes share."""

from __future__ import annotations

MAX_PATH_BYTES = 1024
MAX_NAME_BYTES = 255  # a file or folder name, as Linux filesystems take it
# The largest workspace file the runtime stores, serves or moves in or out of a sandbox.
MAX_FILE_BYTES = 10 * 1024 * 1024


def workspace_path_problem(path: str) -> str | None:
    """Why `path` cannot name a file inside the workspace, or None when it can."""
    if not path:
        return "is required"
    if len(path.encode()) > MAX_PATH_BYTES:
        return f"is longer than {MAX_PATH_BYTES} bytes"
    if "\0" in path:
        return "contains a NUL character"
    if path.startswith("/") or "\\" in path:
        return "must be relative, with '/' separators"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must not contain empty, '.' or '..' segments"
    if any(len(part.encode()) > MAX_NAME_BYTES for part in path.split("/")):
        return f"has a name longer than {MAX_NAME_BYTES} bytes"
    return None
