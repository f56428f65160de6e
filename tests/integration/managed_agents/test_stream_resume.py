"""A Managed Agents event stream resumes where it broke off: each of its messages carries the SSE `id:` of
the sequence it comes from, and a client that reconnects with Last-Event-ID gets what it missed, once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import anthropic

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import API_KEY, Runtime
from tests.integration.managed_agents.conftest import say

HEADERS = {"x-api-key": API_KEY}


async def read_until_idle(stream: aiohttp.ClientResponse) -> tuple[list[tuple[str, Any]], str]:
    """The (type, data) of each event up to session.status_idle, and the last `id:` seen."""
    seen: list[tuple[str, Any]] = []
    last_id, kind = "", ""
    async for raw in stream.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("id: "):
            last_id = line.removeprefix("id: ")
        elif line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind != "ping":
            seen.append((kind, json.loads(line.removeprefix("data: "))))
            if kind == "session.status_idle":
                return seen, last_id
    raise AssertionError(f"the stream ended first: {seen}")


async def idles(client: anthropic.AsyncAnthropic, session_id: str) -> int:
    return len([e async for e in client.beta.sessions.events.list(session_id, types=["session.status_idle"])])


async def test_a_stream_resumed_with_last_event_id_misses_and_repeats_nothing(
    client: anthropic.AsyncAnthropic, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    fake_model.script([Turn.text("One."), Turn.text("Two.")])
    session = await client.beta.sessions.create(
        agent="default", environment_id="default", metadata={"architecture": "anthropic"}
    )
    url = f"http://{runtime.process.rest_address}/v1/sessions/{session.id}/events/stream"
    async with aiohttp.ClientSession(headers=HEADERS) as http:
        async with http.get(url) as stream:
            await say(client, session.id, "first")
            first, last_id = await read_until_idle(stream)
        assert last_id.isdigit() and [d["content"][0]["text"] for k, d in first if k == "agent.message"] == ["One."]

        await say(client, session.id, "second")  # while nobody streams
        for _ in range(300):
            if await idles(client, session.id) == 2:
                break
            await asyncio.sleep(0.1)
        assert await idles(client, session.id) == 2, "the second turn ended while the stream was away"
        async with http.get(url, headers={"Last-Event-ID": last_id}) as resumed:
            second, _ = await read_until_idle(resumed)

        async with http.get(url, headers={"Last-Event-ID": "not-a-sequence"}) as refused:
            assert refused.status == 400
            assert (await refused.json())["error"]["type"] == "invalid_request_error"
    assert [kind for kind, _ in second] == [
        "user.message",
        "session.status_running",
        "agent.message",
        "session.status_idle",
    ]
    assert second[0][1]["content"][0]["text"] == "second" and second[2][1]["content"][0]["text"] == "Two."
