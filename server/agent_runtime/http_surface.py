"""What each HTTP surface over the runtime's gRPC API (the Managed Agents API, the seed's /api) does around
its handlers: the key checked before anything else, the caller's key kept for the calls the handler makes,
and every failure answered in the surface's own error shape."""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from aiohttp import web
from aiohttp.typedefs import Middleware

from agent_runtime.errors import ApiError
from agent_runtime.event_head import call_error
from agent_runtime.key_check import presented_key, refusal
from agent_runtime.rest.errors import Handler

log = logging.getLogger(__name__)

CALLER_KEY = web.RequestKey("caller_key", str)


def caller(request: web.Request) -> Sequence[tuple[str, str]]:
    """The gRPC metadata of a call made for the request's caller, with the caller's own key."""
    return (("authorization", f"Bearer {request[CALLER_KEY]}"),)


class SurfaceError(Exception, abc.ABC):
    """A refusal a surface makes itself, before or instead of calling the runtime; each surface's own kind
    answers in its error shape."""

    @abc.abstractmethod
    def response(self) -> web.Response: ...


@dataclass(frozen=True)
class ErrorShape:
    """How a surface answers: a refused key (what was presented, and the refusal), the runtime's error for a
    call, and anything else (HTTP status, a reason in upper case, the message)."""

    refused_key: Callable[[str | None, ApiError], web.Response]
    failed_call: Callable[[ApiError], web.Response]
    failed: Callable[[int, str, str], web.Response]


def key_guard(api_key: str, shape: ErrorShape, surface: str) -> Middleware:
    key = api_key.encode()

    @web.middleware
    async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        presented = presented_key(request.headers.get("Authorization"), request.headers.get("X-Api-Key"))
        refused = refusal(presented, key)
        if refused is not None:
            return shape.refused_key(presented, refused)
        request[CALLER_KEY] = presented or ""
        try:
            return await handler(request)
        except SurfaceError as error:
            return error.response()
        except grpc.aio.AioRpcError as error:
            return shape.failed_call(call_error(error))
        except web.HTTPException as error:
            if error.status < 400:
                raise
            return shape.failed(error.status, "HTTP_ERROR", error.reason)
        except Exception:
            log.exception("%s failed on %s %s", surface, request.method, request.path)
            return shape.failed(500, "INTERNAL", "internal error")

    return guarded
