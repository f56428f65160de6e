"""What a sandbox can make the model proxy hold is bounded: a body over the model API's own limit is
refused before it is forwarded, and a session's requests in flight are capped."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest

from agent_runtime.modelproxy.proxy import MAX_REQUEST_BYTES, MAX_REQUESTS_IN_FLIGHT, ModelProxy, Upstream
from agent_runtime.modelproxy.vendors import ANTHROPIC
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.support.model_proxy import proxy_on_loopback

BODY = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def proxied(fake_model: FakeAnthropic) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The proxy's Messages URL, and the headers of a session's sandbox."""
    upstream = Upstream(ANTHROPIC, fake_model.base_url, fake_model.api_key)
    proxy = ModelProxy([upstream], budget_tokens=0)
    headers = {"x-api-key": proxy.grant("session-a"), "anthropic-version": "2023-06-01"}
    async with proxy_on_loopback(proxy, upstream, "session-a") as url:
        yield url, headers


async def test_a_body_over_the_limit_is_refused_and_never_forwarded(
    proxied: tuple[str, dict[str, str]], fake_model: FakeAnthropic
) -> None:
    url, headers = proxied
    seen_before = len(fake_model.requests)
    huge = b'{"pad": "' + b"x" * (MAX_REQUEST_BYTES + 1) + b'"}'
    async with aiohttp.ClientSession() as client, client.post(url, data=io.BytesIO(huge), headers=headers) as refused:
        assert refused.status == 413
        assert (await refused.json())["error"]["type"] == "request_too_large"
    assert len(fake_model.requests) == seen_before


async def test_a_sessions_requests_in_flight_are_capped(
    proxied: tuple[str, dict[str, str]], fake_model: FakeAnthropic
) -> None:
    url, headers = proxied
    fake_model.script([Turn.text("slow", delay_seconds=2.0)] * MAX_REQUESTS_IN_FLIGHT)
    async with aiohttp.ClientSession() as client:

        async def ask() -> tuple[int, str]:
            async with client.post(url, json=BODY, headers=headers) as answer:
                body = await answer.json()
                return answer.status, body.get("error", {}).get("type", "")

        answers = await asyncio.gather(*(ask() for _ in range(MAX_REQUESTS_IN_FLIGHT + 4)))
        assert sorted(answers).count((200, "")) == MAX_REQUESTS_IN_FLIGHT
        assert sorted(answers).count((429, "rate_limit_error")) == 4
        fake_model.script([Turn.text("again")])  # the slots were given back
        assert await ask() == (200, "")
