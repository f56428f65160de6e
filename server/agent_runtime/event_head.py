"""The head of a session's event log, as a surface that calls the gRPC API finds it: the runtime's refusal
of a cursor beyond any head says where the head is (CURSOR_BEYOND_HEAD, head_sequence). A stream that
starts there sends what happens from now on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime.errors import ApiError

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

BEYOND_ANY_HEAD = 2**62


def call_error(error: grpc.aio.AioRpcError) -> ApiError:
    """The runtime's error for a call, with its reason and metadata."""
    trailers = cast(Sequence[tuple[str, Any]], tuple(error.trailing_metadata() or ()))
    return ApiError.from_trailers(error.code(), error.details() or "", trailers)


async def head_sequence(stub: AgentRuntimeAsyncStub, session_id: str, metadata: Sequence[tuple[str, str]]) -> int:
    """The session's last sequence; the runtime's error for an unknown session."""
    beyond = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=BEYOND_ANY_HEAD)
    try:
        async for _ in stub.StreamSessionEvents(beyond, metadata=metadata):
            break
    except grpc.aio.AioRpcError as error:
        refusal = call_error(error)
        if refusal.reason != "CURSOR_BEYOND_HEAD":
            raise
        return int(refusal.metadata["head_sequence"])
    raise AssertionError("the runtime took a cursor beyond any head")
