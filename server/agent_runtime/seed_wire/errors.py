"""Errors as the seed answered them: `{"error": message, "code": CODE}` with the HTTP status, the code being
the runtime's own reason (SESSION_NOT_FOUND), or the seed's for what only it had (AUTH_REQUIRED,
INVALID_API_KEY)."""

from __future__ import annotations

import grpc
from aiohttp import web

from agent_runtime.errors import ApiError
from agent_runtime.event_head import call_error
from agent_runtime.http_surface import ErrorShape, SurfaceError
from agent_runtime.rest.errors import HTTP_STATUS


class SeedError(SurfaceError):
    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code

    def response(self) -> web.Response:
        return error_response(self.http_status, self.code, str(self))


def error_response(http_status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": message, "code": code}, status=http_status)


def invalid(code: str, message: str) -> SeedError:
    return SeedError(400, code, message)


def api_error_response(error: ApiError) -> web.Response:
    return error_response(HTTP_STATUS.get(error.code, 500), error.reason, error.message)


def rpc_error_response(error: grpc.aio.AioRpcError) -> web.Response:
    return api_error_response(call_error(error))


def key_refusal(presented: str | None) -> SeedError:
    """The seed's two refusals of a request's key."""
    if presented is None:
        return SeedError(401, "AUTH_REQUIRED", "Missing Authorization header")
    return SeedError(401, "INVALID_API_KEY", "Invalid API key")


SHAPE = ErrorShape(
    refused_key=lambda presented, refused: key_refusal(presented).response(),
    failed_call=api_error_response,
    failed=error_response,
)
