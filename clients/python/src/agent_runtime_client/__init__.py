"""A typed asyncio client of agent-runtime's gRPC API (agentruntime.v1.AgentRuntime).

    from agent_runtime_client import AgentRuntimeClient

    async with AgentRuntimeClient("127.0.0.1:50051", api_key) as client:
        session = await client.create_session("default", "anthropic")
        await client.send_message(session.session_id, "Hello")
        async for event in client.stream_events(session.session_id):
            ...

The messages are in `agent_runtime_client.v1`.
"""

from grpclib.const import Status

from agent_runtime_client.client import AgentRuntimeClient
from agent_runtime_client.errors import AgentRuntimeError, FieldViolation
from agent_runtime_client.event_stream import Reconnect

__all__ = ["AgentRuntimeClient", "AgentRuntimeError", "FieldViolation", "Reconnect", "Status"]
