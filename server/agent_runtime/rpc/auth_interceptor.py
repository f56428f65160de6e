"""Every RPC but health and reflection needs the key (`authorization: Bearer <key>`, see key_check); a
call without it is refused before its request is read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from agent_runtime.errors import ApiError, abort
from agent_runtime.key_check import presented_key, refusal

# Health, and reflection, which only describes the public contract: what an operator's grpcurl asks first.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.v1alpha.ServerReflection/")


def _header(details: grpc.HandlerCallDetails, name: str) -> str | bytes | None:
    for key, value in details.invocation_metadata or ():
        if key == name:
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
        presented = presented_key(
            _header(handler_call_details, "authorization"), _header(handler_call_details, "x-api-key")
        )
        refused = refusal(presented, self._key)
        if refused is None:
            return handler

        return _refusing(handler, refused)


def _refusing(handler: grpc.RpcMethodHandler[Any, Any], refused: ApiError) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler that answers `refused` without reading the request: as a client-streaming one, whose
    messages are never asked for, so a caller without the key cannot make the server take in a large one
    (flow control stops it at a window's worth)."""

    async def refuse(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await abort(context, refused)

    async def refuse_stream(
        requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        await abort(context, refused)
        yield b""  # pragma: no cover - makes this an async generator

    if handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(refuse_stream)
    return grpc.stream_unary_rpc_method_handler(refuse)
