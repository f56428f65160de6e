"""The model proxy spends the real key on model calls only: each vendor's model endpoints are forwarded,
and any other method or path, or a path that needed percent-escapes to say what it says, is refused
without reaching the upstream."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
from yarl import URL

from agent_runtime.modelproxy.proxy import ModelProxy, Upstream
from agent_runtime.modelproxy.vendors import ANTHROPIC, GEMINI
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.gemini import FakeGemini
from tests.support.model_proxy import proxy_on_loopback

GEMINI_COUNT = "/v1beta/models/gemini-2.5-flash:countTokens"
TOKEN_HEADERS = {"anthropic": "x-api-key", "gemini": "x-goog-api-key"}


@contextlib.asynccontextmanager
async def through_proxy(upstream: Upstream) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The proxy's root URL for this upstream, and a session's headers."""
    proxy = ModelProxy([upstream], budget_tokens=0)
    headers = {TOKEN_HEADERS[upstream.vendor.name]: proxy.grant("session-a"), "anthropic-version": "2023-06-01"}
    async with proxy_on_loopback(proxy, upstream, "session-a") as messages_url:
        yield messages_url.removesuffix("/v1/messages"), headers


async def statuses(root: str, headers: dict[str, str], body: object, requests: list[tuple[str, str]]) -> list[int]:
    """Each (method, raw path)'s status, the path sent exactly as written."""
    found = []
    async with aiohttp.ClientSession() as client:
        for method, path in requests:
            async with client.request(method, URL(root + path, encoded=True), headers=headers, json=body) as answer:
                found.append(answer.status)
    return found


async def test_only_the_messages_endpoints_reach_anthropic(fake_model: FakeAnthropic) -> None:
    seen = len(fake_model.requests)
    async with through_proxy(Upstream(ANTHROPIC, fake_model.base_url, fake_model.api_key)) as (root, headers):
        found = await statuses(
            root,
            headers,
            {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]},
            [
                ("POST", "/v1/messages/count_tokens"),
                ("DELETE", "/v1/files/file_123"),
                ("GET", "/v1/models"),
                ("GET", "/v1/messages/count_tokens"),
                ("POST", "/v1/messages/..%2f..%2fadmin/secrets"),
                ("POST", "/v1/messages/../../v1/files"),
                ("POST", "/v1/%6Dessages/count_tokens"),
            ],
        )

    assert found == [200, 404, 404, 404, 404, 404, 404]
    assert [(r.method, r.path) for r in fake_model.requests[seen:]] == [("POST", "/v1/messages/count_tokens")]


async def test_only_a_models_generate_and_count_calls_reach_gemini(fake_gemini: FakeGemini) -> None:
    seen = len(fake_gemini.requests)
    async with through_proxy(Upstream(GEMINI, fake_gemini.base_url, fake_gemini.api_key)) as (root, headers):
        found = await statuses(
            root,
            headers,
            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
            [
                ("POST", GEMINI_COUNT),
                ("DELETE", "/v1beta/cachedContents/x"),
                ("GET", "/v1beta/files"),
                ("POST", "/v1beta/models/..%2ffiles:countTokens"),
                ("POST", "/v1beta/models/../tunedModels/x:generateContent"),
                ("POST", "/v1beta/models/gemini-2.5-flash:delete"),
            ],
        )

    assert found == [200, 404, 404, 404, 404, 404]
    assert [(r.method, r.path) for r in fake_gemini.requests[seen:]] == [("POST", GEMINI_COUNT)]
