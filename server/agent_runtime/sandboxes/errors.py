"""The errors sandbox operations raise, the same from every provider."""

from __future__ import annotations

import grpc

from agent_runtime.errors import ApiError, FieldViolation, bad_request
from agent_runtime.workspace_paths import workspace_path_problem


def checked_path(path: str) -> str:
    """`path` if it names a file inside the workspace, else INVALID_ARGUMENT (reason INVALID_PATH)."""
    problem = workspace_path_problem(path)
    if problem:
        raise bad_request([FieldViolation("path", problem, "INVALID_PATH")])
    return path


def file_not_found(path: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.NOT_FOUND, "FILE_NOT_FOUND", f"no file {path!r} in the workspace", metadata={"path": path}
    )


def not_a_file(path: str, what: str) -> ApiError:
    """The path exists but is a directory, a symlink or another non-regular file: never followed."""
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_REGULAR_FILE", f"{path!r} is {what}", metadata={"path": path}
    )


def file_too_large(path: str, size: int, limit: int) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "FILE_TOO_LARGE",
        f"{path!r} is {size} bytes; the limit is {limit}",
        metadata={"path": path, "limit": str(limit)},
    )


def sandbox_terminated(sandbox_id: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "SANDBOX_TERMINATED",
        f"sandbox {sandbox_id} is no longer running",
        metadata={"sandbox_id": sandbox_id},
    )
