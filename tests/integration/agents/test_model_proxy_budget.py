"""A session's model budget holds however it is asked: a Gemini stream sent as one JSON array is counted,
and requests in flight count against the budget with what they may spend, so a burst of them cannot all
pass before the first is answered."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from agent_runtime.modelproxy.proxy import ModelProxy, Upstream
from agent_runtime.modelproxy.vendors import ANTHROPIC, GEMINI
from tests.fakes import gemini as fake_gemini_api
from tests.fakes.anthropic import FakeAnthropic, Fault, Turn
from tests.fakes.gemini import FakeGemini
from tests.support.model_proxy import proxy_on_loopback

ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}


async def test_a_stream_sent_as_one_json_array_is_counted(fake_gemini: FakeGemini) -> None:
    usage = fake_gemini_api.Usage(prompt_tokens=200_000, output_tokens=100)
    fake_gemini.script([fake_gemini_api.Turn.text("whole", usage=usage)])
    upstream = Upstream(GEMINI, fake_gemini.base_url, fake_gemini.api_key)
    proxy = ModelProxy([upstream], budget_tokens=0)
    token = proxy.grant("session-a")
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with proxy_on_loopback(proxy, upstream, "session-a") as messages_url, aiohttp.ClientSession() as client:
        url = messages_url.removesuffix("/v1/messages") + "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
        async with client.post(url, json=body, headers={"x-goog-api-key": token}) as answer:
            assert answer.status == 200
            assert isinstance(await answer.json(), list), "the stream came as one JSON array"

    assert proxy.usage("session-a").total == 200_100


async def test_requests_in_flight_count_against_the_budget(fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.text("slow", delay_seconds=1.0)] * 4)
    upstream = Upstream(ANTHROPIC, fake_model.base_url, fake_model.api_key)
    proxy = ModelProxy([upstream], budget_tokens=300)  # room for what two requests of 200 may spend
    headers = {**ANTHROPIC_HEADERS, "x-api-key": proxy.grant("session-a")}
    body = {"model": "m", "max_tokens": 200, "messages": [{"role": "user", "content": "hi"}]}
    async with proxy_on_loopback(proxy, upstream, "session-a") as url, aiohttp.ClientSession() as client:

        async def ask() -> int:
            async with client.post(url, json=body, headers=headers) as answer:
                await answer.read()
                return answer.status

        statuses = await asyncio.gather(*(ask() for _ in range(4)))

    assert sorted(statuses) == [200, 200, 403, 403]
    fake_model.discard()  # the two answers nobody asked for


async def test_an_upstream_that_keeps_failing_is_said_once_and_so_is_its_return(
    fake_model: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    fake_model.script([Fault.server_error()] * 5 + [Turn.text("back")])
    upstream = Upstream(ANTHROPIC, fake_model.base_url, fake_model.api_key)
    proxy = ModelProxy([upstream], budget_tokens=0)
    headers = {**ANTHROPIC_HEADERS, "x-api-key": proxy.grant("session-a")}
    body = {"model": "m", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    caplog.set_level(logging.INFO, logger="agent_runtime.modelproxy")
    async with proxy_on_loopback(proxy, upstream, "session-a") as url, aiohttp.ClientSession() as client:
        statuses = []
        for _ in range(6):
            async with client.post(url, json=body, headers=headers) as answer:
                statuses.append(answer.status)

    assert statuses == [500] * 5 + [200]
    said = [record.getMessage() for record in caplog.records if record.name.startswith("agent_runtime.modelproxy")]
    assert said == [
        "the anthropic model API keeps failing: 3 answers in a row, the last 500 Internal Server Error",
        "the anthropic model API answers again, after 5 failures",
    ]
