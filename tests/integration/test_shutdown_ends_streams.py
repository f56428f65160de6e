"""SIGTERM ends every open stream at once, saying why (UNAVAILABLE, reason SHUTTING_DOWN; for server-sent
events an `error` event carrying that status), so open clients no longer hold the stop up."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.integration.conftest import API_KEY, AUTH, launch, make_profiles
from tests.support.rpc import channel

ENDED_WITHIN_SECONDS = 20.0  # an upper bound for the server to act, not a measured figure
REST_HEADERS = {"Authorization": f"Bearer {API_KEY}"}


async def sse_events(response: aiohttp.ClientResponse) -> list[tuple[str, str]]:
    """(event, data) of each named event until the stream ends; heartbeats are comments."""
    named, event = [], ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event:
            named.append((event, line.removeprefix("data: ")))
            event = ""
    return named


async def test_sigterm_ends_grpc_streams_and_sse_with_a_reason(tmp_path: Path) -> None:
    server = launch(tmp_path / "data", make_profiles(tmp_path / "profiles"))
    try:
        async with channel(server.address) as open_channel, aiohttp.ClientSession() as http:
            stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
            session = await stub.CreateSession(
                api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic"), metadata=AUTH
            )
            events = stub.StreamSessionEvents(
                api.StreamSessionEventsRequest(session_id=session.session_id, follow=True), metadata=AUTH
            )
            watch = stub.WatchSessions(api.WatchSessionsRequest(), metadata=AUTH)
            await events.initial_metadata()  # both are subscribed once their headers came
            await watch.initial_metadata()
            url = f"http://{server.rest_address}/sessions/{session.session_id}/events"
            async with http.get(url, headers=REST_HEADERS) as sse:
                assert sse.status == 200
                server.process.send_signal(signal.SIGTERM)
                said = await asyncio.wait_for(sse_events(sse), ENDED_WITHIN_SECONDS)

            for stream in (events, watch):
                with pytest.raises(grpc.aio.AioRpcError) as ended:
                    await asyncio.wait_for(_drain(stream), ENDED_WITHIN_SECONDS)
                assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "shutting down" in (ended.value.details() or "")

        assert said and said[-1][0] == "error", said
        status = json.loads(said[-1][1])
        assert status["code"] == grpc.StatusCode.UNAVAILABLE.value[0]
        assert [d["reason"] for d in status["details"] if "reason" in d] == ["SHUTTING_DOWN"]
        assert await asyncio.to_thread(server.process.wait, ENDED_WITHIN_SECONDS) == 0
    finally:
        server.stop()


async def _drain(stream: grpc.aio.UnaryStreamCall) -> None:  # type: ignore[type-arg]
    async for _ in stream:
        pass
