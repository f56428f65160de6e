"""A turn driven over REST, as a browser would: POST the message, follow the server-sent events."""

from __future__ import annotations

import json

import aiohttp

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import API_KEY, Runtime

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


async def test_a_message_sent_over_rest_streams_back_as_server_sent_events(
    runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    base = f"http://{runtime.process.rest_address}"
    fake_model.script([Turn.text("Hello over HTTP.")])
    async with aiohttp.ClientSession(headers=HEADERS) as client:
        creating = {"agentProfileRef": "default", "architecture": "anthropic"}
        async with client.post(f"{base}/sessions/create", json=creating) as created:
            session_id = (await created.json())["sessionId"]
        async with client.get(f"{base}/sessions/{session_id}/events") as stream:  # follows by default
            async with client.post(f"{base}/sessions/{session_id}/message", json={"content": "Hi"}) as sent:
                assert sent.status == 200 and (await sent.json())["userMessage"]["userMessage"]["content"] == "Hi"
            names, deltas = [], []
            async for raw in stream.content:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    names.append(line.removeprefix("event: "))
                elif line.startswith("data: ") and names[-1] == "session:block:delta":
                    deltas.append(json.loads(line.removeprefix("data: "))["blockDelta"]["delta"])
                if names and names[-1] == "session:turn:completed":
                    break
    assert names[:3] == ["session:message:accepted", "session:turn:started", "session:block:start"]
    assert "session:status" in names and "session:block:complete" in names
    assert "".join(deltas) == "Hello over HTTP."
