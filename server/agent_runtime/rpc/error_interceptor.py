"""Turns exceptions raised by servicers into the call's google.rpc.Status.

ApiError carries its own status; anything else is logged with its traceback and answered INTERNAL,
so a caller never sees a bare exception text and the operator always sees the cause.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from agent_runtime.errors import ApiError, abort
from agent_runtime.rpc.handlers import OnceBehaviour, StreamBehaviour, rewrap

log = logging.getLogger(__name__)


def _internal(method: str) -> ApiError:
    return ApiError(grpc.StatusCode.INTERNAL, "INTERNAL", f"{method} failed; the server log has the cause")


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # an unknown method: gRPC answers UNIMPLEMENTED
            return None
        method = handler_call_details.method

        def once(behaviour: OnceBehaviour) -> OnceBehaviour:
            async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                try:
                    return await behaviour(request, context)
                except ApiError as error:
                    await abort(context, error)
                except grpc.aio.AbortError:  # the servicer set the status itself
                    raise
                except Exception:
                    log.exception("%s failed", method)
                    await abort(context, _internal(method))

            return call

        def stream(behaviour: StreamBehaviour) -> StreamBehaviour:
            async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
                try:
                    async for response in behaviour(request, context):
                        yield response
                except ApiError as error:
                    await abort(context, error)
                except grpc.aio.AbortError:
                    raise
                except Exception:
                    log.exception("%s failed", method)
                    await abort(context, _internal(method))

            return call

        return rewrap(handler, once, stream)
