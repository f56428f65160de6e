"""Errors of the REST shim: the JSON google.rpc.Status, with grpc-gateway's HTTP status for each code."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import grpc
from aiohttp import web
from google.protobuf import json_format
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from agent_runtime.errors import ERROR_DOMAIN

log = logging.getLogger(__name__)

HTTP_STATUS = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


class RequestError(ValueError):
    """The HTTP request cannot be made into a gRPC request (malformed JSON, a wrong type or content type)."""

    def __init__(self, reason: str, text: str, http_status: int = 400) -> None:
        super().__init__(text)
        self.reason = reason
        self.http_status = http_status

    def __reduce__(self) -> tuple[type[RequestError], tuple[str, str, int]]:  # raised in the body parser's worker
        return RequestError, (self.reason, str(self), self.http_status)

    def status(self) -> status_pb2.Status:
        code = code_pb2.INVALID_ARGUMENT if self.http_status == 400 else code_pb2.FAILED_PRECONDITION
        status = status_pb2.Status(code=code, message=str(self))
        status.details.add().Pack(error_details_pb2.ErrorInfo(reason=self.reason, domain=ERROR_DOMAIN))
        return status


def status_json(status: status_pb2.Status) -> dict[str, object]:
    return json_format.MessageToDict(status)


def status_response(status: status_pb2.Status, http_status: int) -> web.Response:
    return web.json_response(status_json(status), status=http_status)


def request_error_response(error: RequestError) -> web.Response:
    return status_response(error.status(), error.http_status)


# The google.rpc.Code of an HTTP error that aiohttp raises, not one of ours.
_CODE_OF_HTTP = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    409: code_pb2.ABORTED,
    429: code_pb2.RESOURCE_EXHAUSTED,
    499: code_pb2.CANCELLED,
    501: code_pb2.UNIMPLEMENTED,
    503: code_pb2.UNAVAILABLE,
    504: code_pb2.DEADLINE_EXCEEDED,
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def status_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error answer is the JSON Status, also those aiohttp makes and those of a bug in the shim."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        fallback = code_pb2.INTERNAL if error.status >= 500 else code_pb2.FAILED_PRECONDITION
        status = status_pb2.Status(code=_CODE_OF_HTTP.get(error.status, fallback), message=error.reason)
        return status_response(status, error.status)
    except Exception:
        log.exception("the REST shim failed on %s %s", request.method, request.path)
        return status_response(status_pb2.Status(code=code_pb2.INTERNAL, message="internal error"), 500)


async def call_status(call: grpc.aio.Call) -> status_pb2.Status:
    """A finished call's status, with the details the server sent."""
    code = await call.code()
    return await rpc_status.aio.from_call(call) or status_pb2.Status(
        code=code.value[0], message=await call.details() or ""
    )


async def call_error_response(call: grpc.aio.Call) -> web.Response:
    return status_response(await call_status(call), HTTP_STATUS.get(await call.code(), 500))
