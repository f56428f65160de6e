"""The standard gRPC health service: the runtime serves only while its storage says SERVING."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2

from agent_runtime._gen.agentruntime.v1 import persistence_pb2

PERSISTENCE_ADAPTER = persistence_pb2.DESCRIPTOR.services_by_name["PersistenceAdapter"].full_name


@pytest.mark.parametrize("service", ["", PERSISTENCE_ADAPTER], ids=["server", "PersistenceAdapter"])
async def test_health_says_serving(storage_channel: grpc.aio.Channel, service: str) -> None:
    check = storage_channel.unary_unary(  # the health stubs' HealthStub declares no methods
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )

    reply = await check(health_pb2.HealthCheckRequest(service=service))

    assert reply.status == health_pb2.HealthCheckResponse.SERVING
