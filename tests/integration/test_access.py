"""What a caller without the key, a health checker and a reflection client see."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, agent_runtime_pb2_grpc, workspace_pb2
from tests.integration.conftest import API_KEY, AUTH, Runtime
from tests.support.footprint import peak_rss_mib, reset_peak
from tests.support.rpc import assert_error, bearer, channel

SERVICE = agent_runtime_pb2.DESCRIPTOR.services_by_name["AgentRuntime"]
METHODS = [m for m in SERVICE.methods]


async def call_raw(address: str, method: Any, metadata: Any) -> grpc.aio.AioRpcError:
    """Calls `method` with an empty request, as any client could, and returns the error it gets."""
    path = f"/{SERVICE.full_name}/{method.name}"
    codecs: dict[str, Any] = {"request_serializer": lambda _: b"", "response_deserializer": bytes}
    async with channel(address) as open_channel:
        try:
            if method.server_streaming:
                async for _ in open_channel.unary_stream(path, **codecs)(None, metadata=metadata):
                    pass
            else:
                await open_channel.unary_unary(path, **codecs)(None, metadata=metadata)
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


def reflection_call(open_channel: grpc.aio.Channel) -> Any:
    # The reflection stubs are typed for synchronous channels; the method is called by its path.
    return open_channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )


async def list_services(address: str, metadata: Any) -> list[str]:
    async with channel(address) as open_channel:
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for reply in reflection_call(open_channel)(iter([request]), metadata=metadata):
            return [s.name for s in reply.list_services_response.service]
    return []


async def test_reflection_lists_the_service_with_or_without_the_key(runtime: Runtime) -> None:
    assert SERVICE.full_name in await list_services(runtime.address, AUTH)
    assert SERVICE.full_name in await list_services(runtime.address, ()), "grpcurl needs no key to look"


@pytest.mark.parametrize(
    "metadata", [(("authorization", API_KEY),), (("x-api-key", API_KEY),)], ids=["bare-key", "x-api-key"]
)
async def test_the_key_alone_or_in_x_api_key_is_taken(runtime: Runtime, metadata: Any) -> None:
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        listed = await stub.ListSessions(agent_runtime_pb2.ListSessionsRequest(), metadata=metadata)
    assert isinstance(listed, agent_runtime_pb2.ListSessionsResponse)


async def test_large_requests_without_the_key_are_refused_unread(runtime: Runtime) -> None:
    pid = runtime.process.process.pid
    before = reset_peak(pid)
    file = workspace_pb2.WorkspaceFile(path="big.bin", content=b"\xff" * (40 * 1024 * 1024))
    huge = agent_runtime_pb2.CreateSessionRequest(default_workspace_files=[file]).SerializeToString()
    path = f"/{SERVICE.full_name}/CreateSession"
    async with channel(runtime.address) as open_channel:
        call = open_channel.unary_unary(path, request_serializer=lambda raw: raw, response_deserializer=bytes)
        answers = await asyncio.gather(*(call(huge) for _ in range(6)), return_exceptions=True)

    for answer in answers:
        assert isinstance(answer, grpc.aio.AioRpcError)
        assert_error(answer, grpc.StatusCode.UNAUTHENTICATED, "API_KEY_MISSING")
    growth = peak_rss_mib(pid) - before
    assert growth < 100, f"six 40 MiB requests without a key grew the runtime's peak memory {growth:.0f} MiB"
