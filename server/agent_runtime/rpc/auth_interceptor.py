"""Every RPC but the health check needs `authorization: Bearer <key>`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from agent_runtime.errors import abort
from agent_runtime.key_check import presented_key, refusal
from agent_runtime.rpc.handlers import OnceBehaviour, StreamBehaviour, rewrap

OPEN_SERVICES = ("/grpc.health.v1.Health/",)


def _header(details: grpc.HandlerCallDetails) -> str | bytes | None:
    for key, value in details.invocation_metadata or ():
        if key == "authorization":
            return value
    return None


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
        refused = refusal(presented_key(_header(handler_call_details)), self._key)
        if refused is None:
            return handler

        def once(_: OnceBehaviour) -> OnceBehaviour:
            async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                await abort(context, refused)

            return refuse

        def stream(_: StreamBehaviour) -> StreamBehaviour:
            async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
                await abort(context, refused)
                yield  # pragma: no cover - makes this an async generator

            return refuse

        return rewrap(handler, once, stream)
