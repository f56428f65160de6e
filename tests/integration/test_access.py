"""What a caller without the key, a health checker and a reflection client see."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2
from tests.integration.conftest import AUTH, Runtime
from tests.support.rpc import assert_error, bearer, channel

SERVICE = agent_runtime_pb2.DESCRIPTOR.services_by_name["AgentRuntime"]
METHODS = [m for m in SERVICE.methods]


async def call_raw(address: str, method: Any, metadata: Any) -> grpc.aio.AioRpcError:
    """Calls `method` with an empty request, as any client could, and returns the error it gets."""
    async with channel(address) as open_channel:
        path = f"/{SERVICE.full_name}/{method.name}"
        kind = open_channel.unary_stream if method.server_streaming else open_channel.unary_unary
        call = kind(path, request_serializer=lambda _: b"", response_deserializer=lambda b: b)(None, metadata=metadata)
        try:
            if method.server_streaming:
                async for _ in call:
                    pass
            else:
                await call
        except grpc.aio.AioRpcError as error:
            return error
    raise AssertionError(f"{method.name} answered without a valid key")


@pytest.mark.parametrize("method", METHODS, ids=[m.name for m in METHODS])
async def test_every_rpc_needs_the_key(runtime: Runtime, method: Any) -> None:
    missing = await call_raw(runtime.address, method, ())
    assert_error(missing, grpc.StatusCode.UNAUTHENTICATED, "API_KEY_MISSING")
    wrong = await call_raw(runtime.address, method, bearer("not-the-key"))
    assert_error(wrong, grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID")
    not_bearer = await call_raw(runtime.address, method, (("authorization", "Basic dGVzdA=="),))
    assert_error(not_bearer, grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID")


async def test_health_answers_serving_without_a_key(runtime: Runtime) -> None:
    async with channel(runtime.address) as open_channel:
        health = health_pb2_grpc.HealthStub(open_channel)
        for service in ("", SERVICE.full_name):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))  # type: ignore[attr-defined]
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        watch = health.Watch(health_pb2.HealthCheckRequest(service=SERVICE.full_name))  # type: ignore[attr-defined]
        async for update in watch:
            assert update.status == health_pb2.HealthCheckResponse.SERVING
            watch.cancel()
            break


async def list_services(address: str, metadata: Any) -> list[str]:
    async with channel(address) as open_channel:
        reflection = reflection_pb2_grpc.ServerReflectionStub(open_channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        replies = reflection.ServerReflectionInfo(iter([request]), metadata=metadata)
        async for reply in replies:
            return [s.name for s in reply.list_services_response.service]
    return []


async def test_reflection_lists_the_service_to_a_caller_with_the_key(runtime: Runtime) -> None:
    assert SERVICE.full_name in await list_services(runtime.address, AUTH)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await list_services(runtime.address, ())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
