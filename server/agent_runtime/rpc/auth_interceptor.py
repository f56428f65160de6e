"""Every RPC but the health check needs `authorization: Bearer <key>`."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from agent_runtime.errors import ApiError, abort
from agent_runtime.rpc.handlers import OnceBehaviour, StreamBehaviour, rewrap

OPEN_SERVICES = ("/grpc.health.v1.Health/",)


def _presented_key(details: grpc.HandlerCallDetails) -> str | None:
    for key, value in details.invocation_metadata or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


def _refusal(presented: str | None) -> ApiError:
    if presented is None:
        return ApiError(
            grpc.StatusCode.UNAUTHENTICATED,
            "API_KEY_MISSING",
            "missing 'authorization: Bearer <key>' metadata",
        )
    return ApiError(grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID", "the API key is not valid")


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, api_key: str) -> None:
        self._key = api_key.encode()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # an unknown method: gRPC answers UNIMPLEMENTED
            return None
        if handler_call_details.method.startswith(OPEN_SERVICES):
            return handler
        presented = _presented_key(handler_call_details)
        if presented and hmac.compare_digest(presented.encode(), self._key):
            return handler
        refusal = _refusal(presented)

        def once(_: OnceBehaviour) -> OnceBehaviour:
            async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                await abort(context, refusal)

            return refuse

        def stream(_: StreamBehaviour) -> StreamBehaviour:
            async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
                await abort(context, refusal)
                yield  # pragma: no cover - makes this an async generator

            return refuse

        return rewrap(handler, once, stream)
