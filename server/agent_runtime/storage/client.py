"""The runtime's only way to storage: a PersistenceAdapter gRPC client with deadlines and retries.

Storage errors come back as ApiError: its own NOT_FOUND, ALREADY_EXISTS and the like keep their
reason (SESSION_NOT_FOUND, PROFILE_NOT_FOUND...); an unreachable storage is UNAVAILABLE with reason
STORAGE_UNAVAILABLE, so callers know to retry.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import grpc
from grpc_health.v1 import health_pb2

from agent_runtime._gen.agentruntime.v1 import persistence_pb2, persistence_pb2_grpc
from agent_runtime.errors import ApiError
from agent_runtime.rpc.server_setup import MAX_MESSAGE_BYTES
from agent_runtime.storage.leases import LEASE_LOST, lease_lost

Request = TypeVar("Request")
Response = TypeVar("Response")

CALL_TIMEOUT_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 2.0
RECONNECT_BACKOFF_MAX_MS = 1000
PASSED_THROUGH = {
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
}
UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
# The writes for a session that storage fences with the writer's lease generation.
FENCED_REQUESTS = (
    persistence_pb2.AppendEventsRequest,
    persistence_pb2.UpdateSessionRecordRequest,
    persistence_pb2.SaveTranscriptRequest,
    persistence_pb2.SaveWorkspaceFileRequest,
    persistence_pb2.DeleteSessionFileRequest,
    persistence_pb2.ChangeSessionFilesRequest,
)

# UNAVAILABLE means the call did not reach a working server; retry it with backoff (gRPC retries).
RETRY_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "agentruntime.v1.PersistenceAdapter"}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def _translate(error: grpc.aio.AioRpcError) -> ApiError:
    code = error.code()
    if code in UNREACHABLE:
        return ApiError(
            grpc.StatusCode.UNAVAILABLE, "STORAGE_UNAVAILABLE", f"storage is unavailable: {error.details()}"
        )
    if code not in PASSED_THROUGH:
        return ApiError(grpc.StatusCode.INTERNAL, "STORAGE_ERROR", f"storage failed: {code.name} {error.details()}")
    # grpc.aio gives (key, value) pairs; its stubs call them _Metadatum.
    trailers = cast(Sequence[tuple[str, Any]], tuple(error.trailing_metadata() or ()))
    return ApiError.from_trailers(code, error.details() or "", trailers)


def channel_target(address: str) -> str:
    return address.removeprefix("grpc://")


class StorageClient:
    def __init__(self, address: str) -> None:
        self.address = address
        self._channel = grpc.aio.insecure_channel(
            channel_target(address),
            options=[
                ("grpc.service_config", RETRY_SERVICE_CONFIG),
                ("grpc.enable_retries", 1),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                # A storage server that comes back (the embedded one is restarted within a second or two) is
                # found at once, not after gRPC's default backoff of up to two minutes.
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", RECONNECT_BACKOFF_MAX_MS),
            ],
        )
        self.stub = persistence_pb2_grpc.PersistenceAdapterStub(self._channel)
        self._health_check = self._channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        self._fence = 0
        self._lost: Callable[[str], None] | None = None
        self._revoked = False

    def fenced(self, generation: int, lost: Callable[[str], None]) -> StorageClient:
        """This client (its channel shared) for a session held under a lease: every write carries the
        generation, and a write storage refuses for it (LEASE_LOST) is also told to `lost`."""
        client = copy.copy(self)
        client._fence, client._lost = generation, lost
        return client

    def revoke(self) -> None:
        """The lease is known lost: writes through this fenced client are refused from now on, unasked."""
        self._revoked = True

    async def call(
        self,
        method: grpc.aio.UnaryUnaryMultiCallable[Request, Response],
        request: Request,
        deadline: float = CALL_TIMEOUT_SECONDS,
    ) -> Response:
        fenced = self._fence and isinstance(request, FENCED_REQUESTS)
        if fenced:
            if self._revoked:
                raise lease_lost(request.session_id, self._fence, self._fence)  # type: ignore[attr-defined]
            request.lease_generation = self._fence  # type: ignore[attr-defined]
        try:
            return await method(request, timeout=deadline)
        except grpc.aio.AioRpcError as error:
            translated = _translate(error)
            if fenced and translated.reason == LEASE_LOST and self._lost is not None:
                self._lost(request.session_id)  # type: ignore[attr-defined]
            raise translated from error

    async def is_serving(self) -> bool:
        try:
            reply = await self._health_check(health_pb2.HealthCheckRequest(), timeout=HEALTH_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def close(self) -> None:
        await self._channel.close(grace=None)
