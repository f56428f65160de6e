"""Errors as the Anthropic SDKs read them: {"type": "error", "error": {"type", "message", "details":
{"error_code"}}} with the HTTP status that picks the SDK's exception class (404 NotFoundError, 401
AuthenticationError, 400 BadRequestError...). The error_code is the runtime's own reason in lower case
(session_not_found), which is also how the SDK picks its finer classes (environment_not_found)."""

from __future__ import annotations

import grpc
from aiohttp import web

from agent_runtime.errors import ApiError
from agent_runtime.event_head import call_error
from agent_runtime.http_surface import ErrorShape, SurfaceError
from agent_runtime.rest.errors import HTTP_STATUS

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
}


class ManagedAgentsError(SurfaceError):
    """A request this surface refuses before (or instead of) calling the runtime."""

    def __init__(self, http_status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code

    def response(self) -> web.Response:
        return error_response(self.http_status, self.error_code, str(self))


def invalid(error_code: str, message: str) -> ManagedAgentsError:
    return ManagedAgentsError(400, error_code, message)


def not_served(what: str) -> ManagedAgentsError:
    return ManagedAgentsError(404, "not_served", f"agent-runtime does not serve {what}")


def error_response(http_status: int, error_code: str, message: str) -> web.Response:
    body = {
        "type": "error",
        "error": {
            "type": ERROR_TYPES.get(http_status, "api_error"),
            "message": message,
            "details": {"error_code": error_code},
        },
    }
    # The SDKs retry a 409 unless told not to; a conflict here does not go away by itself.
    headers = {"x-should-retry": "false"} if http_status == 409 else None
    return web.json_response(body, status=http_status, headers=headers)


def api_error_response(error: ApiError) -> web.Response:
    return error_response(HTTP_STATUS.get(error.code, 500), error.reason.lower(), error.message)


def rpc_error_response(error: grpc.aio.AioRpcError) -> web.Response:
    return api_error_response(call_error(error))


SHAPE = ErrorShape(
    refused_key=lambda presented, refused: api_error_response(refused),
    failed_call=api_error_response,
    failed=lambda status, reason, message: error_response(status, reason.lower(), message),
)
