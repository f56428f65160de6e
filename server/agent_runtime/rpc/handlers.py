"""Rewrap a grpc.aio method handler's behaviour, whatever its kind.

Behaviours that answer once (unary and client-streaming) go through `once`; behaviours that answer
with a stream (server- and bidi-streaming) go through `stream` as async generators, including those
written with context.write() instead of yield (grpc's own health Watch). A server-streaming behaviour
may yield responses it encoded itself, as bytes (an event encoded once for all its subscribers).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

OnceBehaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
StreamBehaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], AsyncIterator[Any]]


def _as_async_generator(behaviour: Callable[..., Any]) -> StreamBehaviour:
    if inspect.isasyncgenfunction(behaviour):  # one generator fewer for each message it sends
        return behaviour

    async def generate(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        result = behaviour(request, context)
        if inspect.isasyncgen(result):
            async for response in result:
                yield response
        else:
            await result

    return generate


def _passing_bytes(serializer: Callable[[Any], bytes] | None) -> Callable[[Any], bytes] | None:
    """`serializer`, except that a response already encoded (bytes) is sent as it is."""
    if serializer is None:
        return None
    encode = serializer
    return lambda response: response if type(response) is bytes else encode(response)


def rewrap(
    handler: grpc.RpcMethodHandler[Any, Any],
    once: Callable[[OnceBehaviour], OnceBehaviour],
    stream: Callable[[StreamBehaviour], StreamBehaviour],
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler like `handler` whose behaviour goes through `once` or `stream`."""
    serializers: dict[str, Any] = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(once(handler.unary_unary), **serializers)  # type: ignore[arg-type]
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(once(handler.stream_unary), **serializers)  # type: ignore[arg-type]
    if handler.unary_stream is not None:
        serializers["response_serializer"] = _passing_bytes(handler.response_serializer)
        return grpc.unary_stream_rpc_method_handler(stream(_as_async_generator(handler.unary_stream)), **serializers)
    assert handler.stream_stream is not None
    return grpc.stream_stream_rpc_method_handler(stream(_as_async_generator(handler.stream_stream)), **serializers)
