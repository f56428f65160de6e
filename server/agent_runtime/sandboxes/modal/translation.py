"""Modal's failures in the runtime's terms, for the ones that are neither bad input nor a dead sandbox."""

from __future__ import annotations

import grpc

from agent_runtime.errors import ApiError


def provider_error(sandbox_id: str, error: Exception) -> ApiError:
    return ApiError(
        grpc.StatusCode.UNAVAILABLE,
        "SANDBOX_PROVIDER_ERROR",
        f"Modal failed on sandbox {sandbox_id}: {type(error).__name__}: {error}",
        metadata={"sandbox_id": sandbox_id, "provider": "modal"},
    )
