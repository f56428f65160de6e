"""The fake Anthropic API, driven by the real `anthropic` SDK: what each scripted answer looks like to it."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import anthropic
import httpx2
import pytest
from anthropic.types import MessageParam

from tests.fakes.anthropic import (
    SCRIPT_HEADER,
    FakeAnthropic,
    Fault,
    HttpFault,
    Turn,
    Usage,
    running_fake_anthropic,
    text,
    thinking,
    tool_use,
)

MODEL = "fake-model"
HELLO: list[MessageParam] = [{"role": "user", "content": "Hello"}]


@asynccontextmanager
async def sdk(fake: FakeAnthropic, **options: Any) -> AsyncIterator[anthropic.AsyncAnthropic]:
    options = {"api_key": fake.api_key, **options}
    async with anthropic.AsyncAnthropic(base_url=fake.base_url, max_retries=0, **options) as client:
        yield client


async def test_streamed_text_arrives_in_order_in_several_deltas() -> None:
    usage = Usage(input_tokens=31, output_tokens=7, cache_read_input_tokens=5, cache_creation_input_tokens=3)
    before = time.perf_counter()
    async with (
        running_fake_anthropic([Turn([text("Hello from the fake API", pieces=4)], usage=usage)]) as fake,
        sdk(fake) as client,
        client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream,
    ):
        deltas = [delta async for delta in stream.text_stream]
        final = await stream.get_final_message()

    [sent] = fake.text_sent_at
    assert before < sent < time.perf_counter(), "the fake notes when its first text went out, for the bench"
    assert len(deltas) == 4
    assert "".join(deltas) == "Hello from the fake API"
    assert [block.type for block in final.content] == ["text"]
    assert final.content[0].type == "text" and final.content[0].text == "Hello from the fake API"
    assert final.stop_reason == "end_turn"
    assert final.model == MODEL
    assert (final.usage.input_tokens, final.usage.output_tokens) == (31, 7)
    assert (final.usage.cache_read_input_tokens, final.usage.cache_creation_input_tokens) == (5, 3)
    [request] = fake.message_requests()
    assert request.stream
    assert request.api_key == fake.api_key
    assert request.messages == [{"role": "user", "content": "Hello"}]
    assert "anthropic-version" in request.headers


async def test_raw_events_come_in_the_api_order_with_dense_block_indexes() -> None:
    turn = Turn([thinking("Let me see", pieces=2), text("Yes", pieces=1), tool_use("Bash", {"command": "ls"})])
    async with running_fake_anthropic([turn]) as fake, sdk(fake) as client:
        stream = await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO, stream=True)
        events = [event async for event in stream]

    def describe(event: anthropic.types.RawMessageStreamEvent) -> str:
        if event.type == "content_block_delta":
            return f"{event.index}:{event.delta.type}"
        if event.type in ("content_block_start", "content_block_stop"):
            return f"{event.index}:{event.type}"
        return event.type

    assert [describe(event) for event in events] == [
        "message_start",
        "0:content_block_start",
        "0:thinking_delta",
        "0:thinking_delta",
        "0:signature_delta",
        "0:content_block_stop",
        "1:content_block_start",
        "1:text_delta",
        "1:content_block_stop",
        "2:content_block_start",
        "2:input_json_delta",
        "2:input_json_delta",
        "2:input_json_delta",
        "2:content_block_stop",
        "message_delta",
        "message_stop",
    ]


async def test_a_thinking_block_comes_with_its_signature() -> None:
    turn = Turn([thinking("First, the greeting.", signature="sig-123"), text("Hi!")])
    async with (
        running_fake_anthropic([turn]) as fake,
        sdk(fake) as client,
        client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream,
    ):
        final = await stream.get_final_message()

    thought, answer = final.content
    assert thought.type == "thinking"
    assert (thought.thinking, thought.signature) == ("First, the greeting.", "sig-123")
    assert answer.type == "text" and answer.text == "Hi!"


async def test_a_tool_use_round_trip() -> None:
    write = Turn.tool_use("Write", {"file_path": "notes/a.txt", "content": "x = 1\n"}, id="toolu_01")
    async with running_fake_anthropic([write, Turn.text("Written.")]) as fake, sdk(fake) as client:
        async with client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream:
            fragments = [event.partial_json async for event in stream if event.type == "input_json"]
            first = await stream.get_final_message()
        [call] = first.content
        assert call.type == "tool_use"
        assert (call.id, call.name) == ("toolu_01", "Write")
        assert call.input == {"file_path": "notes/a.txt", "content": "x = 1\n"}
        assert first.stop_reason == "tool_use"
        assert len(fragments) == 3
        assert "".join(fragments) == json.dumps(call.input)
        assert not any(_is_json(fragment) for fragment in fragments)  # cut mid-JSON

        history: list[MessageParam] = [
            *HELLO,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "File created"}]},
        ]
        async with client.messages.stream(model=MODEL, max_tokens=1024, messages=history) as stream:
            second = await stream.get_final_message()

    assert second.content[0].type == "text" and second.content[0].text == "Written."
    first_request, second_request = fake.message_requests()
    assert first_request.tool_results == []
    assert second_request.tool_results == [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "File created"}
    ]
    assert second_request.messages[1]["content"][0]["input"] == {"file_path": "notes/a.txt", "content": "x = 1\n"}


async def test_a_request_without_stream_gets_the_whole_message_as_json() -> None:
    turn = Turn([text("Let me look."), tool_use("Read", {"file_path": "a.txt"}, id="toolu_02")], usage=Usage(9, 4))
    async with running_fake_anthropic([turn]) as fake, sdk(fake) as client:
        message = await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)

    said, call = message.content
    assert said.type == "text" and said.text == "Let me look."
    assert call.type == "tool_use" and (call.id, call.name, call.input) == ("toolu_02", "Read", {"file_path": "a.txt"})
    assert message.stop_reason == "tool_use"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (9, 4)
    [request] = fake.message_requests()
    assert not request.stream


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        (Fault.rate_limited(retry_after=7), anthropic.RateLimitError, 429),
        (Fault.server_error(), anthropic.InternalServerError, 500),
        (Fault.overloaded(), anthropic.OverloadedError, 529),
        (Fault.bad_request("prompt is too long"), anthropic.BadRequestError, 400),
    ],
)
@pytest.mark.parametrize("streaming", [True, False])
async def test_an_http_fault_raises_the_sdks_matching_error(
    fault: HttpFault, error: type[anthropic.APIStatusError], status: int, streaming: bool
) -> None:
    async with running_fake_anthropic([fault]) as fake, sdk(fake) as client:
        with pytest.raises(anthropic.APIStatusError) as raised:
            if streaming:
                async with client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream:
                    await stream.get_final_message()
            else:
                await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)

    assert type(raised.value) is error
    assert raised.value.status_code == status
    assert raised.value.body == {"type": "error", "error": {"type": fault.error.type, "message": fault.error.message}}
    for name, value in fault.headers.items():
        assert raised.value.response.headers[name] == value


async def test_an_error_event_mid_stream_raises_after_the_partial_text() -> None:
    fault = Fault.error_event(Turn.text("Half an ans"), "overloaded_error", "Overloaded mid-stream")
    async with running_fake_anthropic([fault]) as fake, sdk(fake) as client:
        deltas: list[str] = []
        with pytest.raises(anthropic.APIStatusError) as raised:
            async with client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream:
                async for delta in stream.text_stream:
                    deltas.append(delta)

    assert "".join(deltas) == "Half an ans"
    assert raised.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded mid-stream"},
    }


async def test_an_error_event_asked_for_without_streaming_is_an_http_error() -> None:
    async with running_fake_anthropic([Fault.error_event()]) as fake, sdk(fake) as client:
        with pytest.raises(anthropic.OverloadedError):
            await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)


async def test_an_unreadable_stream_raises() -> None:
    async with running_fake_anthropic([Fault.garbage()]) as fake, sdk(fake) as client:
        with pytest.raises(json.JSONDecodeError):
            async with client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream:
                await stream.get_final_message()


async def test_a_stream_cut_off_mid_body_raises() -> None:
    async with running_fake_anthropic([Fault.truncated()]) as fake, sdk(fake) as client:
        deltas: list[str] = []
        with pytest.raises(httpx2.RemoteProtocolError):
            async with client.messages.stream(model=MODEL, max_tokens=1024, messages=HELLO) as stream:
                async for delta in stream.text_stream:
                    deltas.append(delta)

    assert "".join(deltas) == "A partial answer that never "


async def test_malformed_answers_without_streaming_raise() -> None:
    async with running_fake_anthropic([Fault.garbage(), Fault.truncated()]) as fake, sdk(fake) as client:
        with pytest.raises(json.JSONDecodeError):
            await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)
        with pytest.raises(anthropic.APIConnectionError):
            await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)


async def test_a_wrong_key_is_refused_and_takes_no_answer() -> None:
    async with running_fake_anthropic([Turn.text("only for the right key")]) as fake:
        async with sdk(fake, api_key="sk-ant-wrong") as client:
            with pytest.raises(anthropic.AuthenticationError) as raised:
                await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)
        assert raised.value.body == {
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        }
        assert fake.remaining() == 1
        assert fake.message_requests()[0].api_key == "sk-ant-wrong"


async def test_the_key_may_come_as_x_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    async with running_fake_anthropic([Turn.text("ok")]) as fake:
        async with sdk(fake, api_key=None, default_headers={"x-api-key": fake.api_key}) as client:
            message = await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)
        [request] = fake.message_requests()

    assert message.content[0].type == "text" and message.content[0].text == "ok"
    assert "authorization" not in request.headers
    assert request.headers["x-api-key"] == fake.api_key


async def test_scripts_selected_by_header_do_not_interfere() -> None:
    async with running_fake_anthropic() as fake:
        fake.script([Turn.text("a1"), Turn.text("a2")], name="a")
        fake.script([Turn.text("b1"), Fault.overloaded()], name="b")

        async def converse(name: str) -> list[str]:
            said: list[str] = []
            async with sdk(fake, default_headers={SCRIPT_HEADER: name}) as client:
                for _ in range(2):
                    try:
                        message = await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)
                    except anthropic.OverloadedError:
                        said.append("overloaded")
                    else:
                        said.extend(block.text for block in message.content if block.type == "text")
            return said

        a, b = await asyncio.gather(converse("a"), converse("b"))

    assert a == ["a1", "a2"]
    assert b == ["b1", "overloaded"]
    assert [request.headers[SCRIPT_HEADER] for request in fake.message_requests("a")] == ["a", "a"]
    assert len(fake.message_requests("b")) == 2
    assert fake.message_requests("default") == []


async def test_the_beta_path_system_messages_warm_up_and_count_tokens_are_answered() -> None:
    system_inside: list[MessageParam] = [*HELLO, cast(MessageParam, {"role": "system", "content": "Be brief."})]
    async with running_fake_anthropic([Turn.text("beta")]) as fake, sdk(fake) as client:
        for method in ("HEAD", "GET"):
            request = urllib.request.Request(fake.base_url + "/", method=method)
            with await asyncio.to_thread(urllib.request.urlopen, request) as response:
                assert response.status == 200
        # The Claude Code CLI asks for `/v1/messages?beta=true` and puts system messages among the others.
        message = await client.messages.create(
            model=MODEL, max_tokens=1024, messages=system_inside, extra_query={"beta": "true"}
        )
        counted = await client.messages.count_tokens(model=MODEL, messages=HELLO)

    assert message.content[0].type == "text" and message.content[0].text == "beta"
    assert counted.input_tokens > 0
    head, get, beta, count = fake.requests
    assert (head.method, head.path, get.method, get.path) == ("HEAD", "/", "GET", "/")
    assert (beta.path, beta.query) == ("/v1/messages", {"beta": "true"})
    assert beta.messages[-1]["role"] == "system"
    assert count.path == "/v1/messages/count_tokens"
    assert fake.unexpected == []


async def test_an_unknown_endpoint_fails_the_test_on_the_way_out() -> None:
    with pytest.raises(AssertionError, match="GET /v1/models: the fake has no such endpoint"):
        async with running_fake_anthropic() as fake, sdk(fake) as client:
            with pytest.raises(anthropic.NotFoundError):
                await client.models.list()


async def test_running_out_of_answers_is_a_500_and_fails_the_test_on_the_way_out() -> None:
    with pytest.raises(AssertionError, match="script 'default' has no answer left"):
        async with running_fake_anthropic([Turn.text("the only one")]) as fake, sdk(fake) as client:
            await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)
            with pytest.raises(anthropic.InternalServerError) as raised:
                await client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO)
            assert raised.value.response.headers["x-should-retry"] == "false"


async def test_a_request_the_real_api_would_refuse_is_unexpected() -> None:
    async with running_fake_anthropic([Turn.text("never sent")], fail_on_unexpected=False) as fake, sdk(fake) as client:
        with pytest.raises(anthropic.BadRequestError):
            await client.messages.create(model=MODEL, max_tokens=1024, messages=[])

    assert fake.unexpected == ["POST /v1/messages: messages: Field required"]
    assert fake.remaining() == 1


def _is_json(fragment: str) -> bool:
    try:
        json.loads(fragment)
    except ValueError:
        return False
    return True
