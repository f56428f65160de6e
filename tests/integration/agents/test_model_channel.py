"""Sandboxes reach the model only through the runtime's model proxy, with a token of their own."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import aiohttp

from agent_runtime.modelproxy.proxy import ModelProxy, Upstream
from agent_runtime.modelproxy.vendors import ANTHROPIC
from agent_runtime.sandboxes.base import SandboxSpec
from agent_runtime.sessions.model_channel import ModelChannel
from tests.conformance.sandbox.helpers import run
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.fakes.modal import fake_modal_provider
from tests.integration.agents.conftest import Conversation
from tests.integration.conftest import launch, make_profiles
from tests.support.model_proxy import proxy_on_loopback

CALL_THE_MODEL = r"""python3 - <<'SCRIPT'
import json, os, urllib.request, urllib.error
BODY = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "from the sandbox"}]}
def ask(key):
    request = urllib.request.Request(
        os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
        data=json.dumps(BODY).encode(),
        headers={"x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.load(reply)["content"][0]["text"]
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)["error"]["type"]
token = os.environ["ANTHROPIC_API_KEY"]
print("token", token[:5])
print(*ask(token))
print(*ask("not-the-token"))
SCRIPT"""


async def test_a_command_in_the_sandbox_reaches_the_model_through_the_proxy(
    conversation: Conversation, fake_model: FakeAnthropic
) -> None:
    fake_model.script(
        [Turn.tool_use("Bash", {"command": CALL_THE_MODEL}), Turn.text("hello sandbox"), Turn.text("Done.")]
    )
    await conversation.send("Ask the model from inside the sandbox.")
    events = await conversation.until_turn_completed()
    results = [
        e.block_complete.block.tool_result.output.string_value
        for e in events
        if e.HasField("block_complete") and e.block_complete.block.HasField("tool_result")
    ]
    assert results[0].splitlines() == ["token sess-", "200 hello sandbox", "401 authentication_error"]
    from_sandbox = [
        r for r in fake_model.message_requests() if r.messages == [{"role": "user", "content": "from the sandbox"}]
    ]
    assert len(from_sandbox) == 1
    assert from_sandbox[0].api_key == fake_model.api_key, "the proxy put the real key in"
    assert all(not (r.api_key or "").startswith("sess-") for r in fake_model.requests), "the token stays inside"


async def test_the_proxy_counts_tokens_and_refuses_a_spent_budget(fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.text("one")])
    upstream = Upstream(ANTHROPIC, fake_model.base_url, fake_model.api_key)
    proxy = ModelProxy([upstream], budget_tokens=1)
    token = proxy.grant("session-a")
    body = {"model": "m", "max_tokens": 16, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": token, "anthropic-version": "2023-06-01"}
    async with proxy_on_loopback(proxy, upstream, "session-a") as url, aiohttp.ClientSession() as client:
        async with client.post(url, json=body, headers=headers) as first:
            assert first.status == 200
            assert b"message_stop" in await first.read()
        assert proxy.usage("session-a").total > 0
        async with client.post(url, json=body, headers=headers) as second:
            assert second.status == 403
            assert (await second.json())["error"]["type"] == "permission_error"
        proxy.revoke(token)
        async with client.post(url, json=body, headers=headers) as revoked:
            assert revoked.status == 401


async def test_a_modal_sandbox_reaches_the_model_through_the_shared_listener(fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.text("hello modal")])
    proxy = ModelProxy([Upstream(ANTHROPIC, fake_model.base_url, fake_model.api_key)], budget_tokens=0)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    runner = await proxy.serve_shared(listener)
    shared_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        async with fake_modal_provider() as provider:
            sandbox = await provider.create(SandboxSpec(session_id="modal-session", model_proxy_url=shared_url))
            try:
                channel = await ModelChannel.open(proxy, sandbox, "modal-session", shared_url)
                assert channel is not None and not channel.runners, "no port inside: the shared listener"
                assert channel.environment["ANTHROPIC_BASE_URL"] == f"{shared_url}/anthropic"
                finished = await run(sandbox, ["/bin/bash", "-c", CALL_THE_MODEL], env=channel.environment)
                await channel.close()
            finally:
                await sandbox.terminate()
    finally:
        await runner.cleanup()
        await proxy.close()
    assert finished.stdout.decode().splitlines() == ["token sess-", "200 hello modal", "401 authentication_error"]
    assert fake_model.message_requests()[-1].api_key == fake_model.api_key


async def test_serve_opens_the_shared_listener_when_asked(tmp_path: Path, fake_model: FakeAnthropic) -> None:
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    profiles = make_profiles(tmp_path / "profiles")
    seen_before = len(fake_model.requests)
    server = launch(tmp_path / "data", profiles, ("--model-proxy-address=127.0.0.1:0",), env)
    try:
        found = re.search(r"model proxy for remote sandboxes listening on (\S+)", server.text())
        assert found, server.text()
        body = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
        async with aiohttp.ClientSession() as client:
            url = f"http://{found.group(1)}/anthropic/v1/messages"
            async with client.post(url, json=body, headers={"x-api-key": "not-a-session-token"}) as refused:
                assert refused.status == 401
                assert (await refused.json())["error"]["type"] == "authentication_error"
            async with client.post(f"http://{found.group(1)}/elsewhere/v1/messages", json=body) as unknown:
                assert unknown.status == 404
    finally:
        server.stop()
    assert len(fake_model.requests) == seen_before, "nothing without a session's token reached the model"


async def test_a_token_works_on_its_own_sessions_listener_only(fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.text("mine")])
    upstream = Upstream(ANTHROPIC, fake_model.base_url, fake_model.api_key)
    proxy = ModelProxy([upstream], budget_tokens=0)
    own, other = proxy.grant("session-a"), proxy.grant("session-b")
    body = {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    async with proxy_on_loopback(proxy, upstream, "session-a") as url, aiohttp.ClientSession() as client:
        seen = len(fake_model.requests)
        async with client.post(url, json=body, headers={"x-api-key": other, "anthropic-version": "2023-06-01"}) as b:
            assert b.status == 401, "session B's token on session A's listener"
        assert len(fake_model.requests) == seen
        async with client.post(url, json=body, headers={"x-api-key": own, "anthropic-version": "2023-06-01"}) as a:
            assert a.status == 200
    assert proxy.usage("session-b").total == 0 and proxy.usage("session-a").total > 0
