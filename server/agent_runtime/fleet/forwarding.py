"""Calls for a session another replica holds, sent on to that replica over gRPC.

gRPC rather than NATS: the owner's answer, with its status, ErrorInfo and field violations, reaches the
caller unchanged, the caller's deadline and key go along, and a forwarded SendMessage carries its
request_id to the owner's durable inbox, so a retry anywhere stays idempotent. The call is marked as
forwarded, so a replica that finds the session moved on does not send it round again.
"""

from __future__ import annotations

from typing import Any

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from agent_runtime.errors import STATUS_DETAILS_KEY, ApiError

FORWARDED_BY = "x-agent-runtime-forwarded-by"
# The caller's credentials go along: the replicas of a fleet share one key.
PASSED_ON = ("authorization", "x-api-key")
# An owner answers within this long, or within its lease's time if longer (a paused owner accepts the
# connection and says nothing: by then its lease is running out), unless the caller's deadline is sooner.
FORWARD_SECONDS = 5.0
# An owner that restarted is called again soon: gRPC's reconnection backoff is kept short.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),
]
Context = Any  # grpc.aio.ServicerContext


def forwarded_by(context: Context) -> str:
    """The replica that forwarded this call here; empty for a caller's own call."""
    return next((str(value) for key, value in context.invocation_metadata() or () if key == FORWARDED_BY), "")


class OwnerForwarder:
    def __init__(self, replica_id: str, lease_ttl: float) -> None:
        self._replica_id = replica_id
        self._seconds = max(FORWARD_SECONDS, lease_ttl)
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self, address: str) -> Any:
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        return agent_runtime_pb2_grpc.AgentRuntimeStub(channel)

    async def call(
        self,
        method: str,
        request: Any,
        context: Context,
        session_id: str,
        owner: tuple[str, str],
        seconds: float | None = None,
    ) -> Any:
        """The owner's answer to `method` (an AgentRuntime RPC), or its error; UNAVAILABLE OWNER_UNAVAILABLE,
        naming the owner, when it does not answer."""
        replica_id, address = owner
        metadata = [(k, v) for k, v in context.invocation_metadata() or () if k in PASSED_ON]
        remaining = context.time_remaining()
        timeout = min(seconds or self._seconds, remaining if remaining is not None else float("inf"))
        try:
            return await getattr(self._stub(address), method)(
                request, metadata=(*metadata, (FORWARDED_BY, self._replica_id)), timeout=timeout
            )
        except grpc.aio.AioRpcError as error:
            trailers = tuple(error.trailing_metadata() or ())
            if any(key == STATUS_DETAILS_KEY for key, _ in trailers):
                raise ApiError.from_trailers(error.code(), error.details() or "", trailers) from None
            raise ApiError(
                grpc.StatusCode.UNAVAILABLE,
                "OWNER_UNAVAILABLE",
                f"session {session_id!r} is held by replica {replica_id!r} at {address}, which does not answer"
                f" ({error.code().name}: {error.details()}); try again: once its lease expires another replica"
                " takes the session over",
                metadata={"session_id": session_id, "replica_id": replica_id, "address": address},
            ) from None

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(grace=None)
