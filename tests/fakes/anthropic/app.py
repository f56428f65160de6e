"""The fake's HTTP surface: the handler of every request to its aiohttp application.

- `HEAD /`, `GET /`: 200 (the Claude Code CLI warms its connection up this way).
- `POST /v1/messages` (any query string, such as the CLI's `?beta=true`): the selected script's next answer,
  as SSE when the body has `"stream": true`, else as JSON.
- `POST /v1/messages/count_tokens`: an estimate from the body's size.
- Anything else: 404 with an Anthropic error body, recorded as unexpected.

The two API endpoints check the key (`x-api-key` or `Authorization: Bearer`, 401 otherwise), then the
`anthropic-version` header and the body's shape (`model`, `max_tokens`, `messages` with roles user, assistant or
system); a request the real API would refuse for its shape gets a 400 and is recorded as unexpected, since no
client of ours should send one. A script with no answer left gets a 500 with `x-should-retry: false` (so
clients do not retry it) and is recorded as unexpected.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from tests.fakes.anthropic import sse
from tests.fakes.anthropic.message import error_body, message_body
from tests.fakes.anthropic.recording import RecordedRequest, api_key_of
from tests.fakes.anthropic.script import ERROR_STATUS, Answer, ApiError, HttpFault, StreamFault, Turn
from tests.fakes.shared import Handler, cut_short, drop_connection, json_or_none, script_of

ROLES = frozenset({"user", "assistant", "system"})


class AnthropicHandler(Handler[Answer, RecordedRequest]):
    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json_or_none(raw)
        endpoint = (request.method, request.path)
        script = script_of(request) if endpoint == ("POST", "/v1/messages") else None
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.recording.request(
            RecordedRequest(request.method, request.path, dict(request.query), headers, body, script)
        )

        if request.method in ("HEAD", "GET") and request.path == "/":
            return web.Response(text="ok")
        if endpoint not in (("POST", "/v1/messages"), ("POST", "/v1/messages/count_tokens")):
            self.recording.unexpected(f"{request.method} {request.path}: the fake has no such endpoint")
            return _error(404, ApiError("not_found_error", f"Not found: {request.method} {request.path}"))
        refusal = self._refusal(request, body)
        if refusal is not None:
            return refusal
        if request.path == "/v1/messages/count_tokens":
            return web.json_response({"input_tokens": max(1, len(raw) // 4)}, headers=_request_id())
        assert script is not None
        answer = self.scripts.take(script)
        if answer is None:
            self.recording.unexpected(f"POST {request.path}: script {script!r} has no answer left")
            message = f"the fake Anthropic API has no scripted answer left in script {script!r}"
            return _error(500, ApiError("api_error", message), {"x-should-retry": "false"})
        return await _answer(request, answer, body["model"], body.get("stream") is True, self.recording.text_sent)

    def _refusal(self, request: web.Request, body: Any) -> web.Response | None:
        """The error the real API would answer with for this request's key, version header or body, if any."""
        if api_key_of(request.headers) != self.api_key:
            return _error(401, ApiError("authentication_error", "invalid x-api-key"))
        problem = _shape_problem(request, body)
        if problem is None:
            return None
        self.recording.unexpected(f"{request.method} {request.path}: {problem}")
        return _error(400, ApiError("invalid_request_error", problem))


def _shape_problem(request: web.Request, body: Any) -> str | None:
    if "anthropic-version" not in request.headers:
        return "anthropic-version: header is required"
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required"
    for position, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES or "content" not in message:
            return f"messages.{position}: a message needs a role ({', '.join(sorted(ROLES))}) and content"
    if request.path == "/v1/messages" and not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    return None


async def _answer(
    request: web.Request, answer: Answer, model: str, stream: bool, text_sent: Callable[[], None]
) -> web.StreamResponse:
    message_id = f"msg_fake_{uuid.uuid4().hex[:20]}"
    if isinstance(answer, Turn):
        await asyncio.sleep(answer.delay_seconds)
    match answer:
        case HttpFault():
            return _error(answer.status, answer.error, answer.headers)
        case Turn() if stream:
            return await _stream(request, sse.turn_events(answer, message_id, model), text_sent=text_sent)
        case Turn():
            return web.json_response(message_body(answer, message_id, model), headers=_request_id())
        case StreamFault() if stream:
            return await _broken_stream(request, answer, message_id, model)
        case StreamFault():
            return await _broken_json(request, answer, message_id, model)


async def _stream(
    request: web.Request, events: list[sse.Event], tail: bytes = b"", text_sent: Callable[[], None] = lambda: None
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", **_request_id()}
    )
    await response.prepare(request)
    texts = [e for e in events if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"]
    for event in events:
        await response.write(sse.encode(event))
        if texts and event is texts[0]:
            text_sent()
    if tail:
        await response.write(tail)
    return response


async def _broken_stream(request: web.Request, fault: StreamFault, message_id: str, model: str) -> web.StreamResponse:
    events = sse.partial_events(fault.partial, message_id, model)
    match fault.kind:
        case "error_event":
            return await _stream(request, events, sse.encode(error_body(fault.error)))
        case "garbage":
            return await _stream(request, events, sse.GARBAGE)
        case "truncated":
            response = await _stream(request, events)
            drop_connection(request)
            return response


async def _broken_json(request: web.Request, fault: StreamFault, message_id: str, model: str) -> web.StreamResponse:
    match fault.kind:
        case "error_event":
            return _error(ERROR_STATUS.get(fault.error.type, 500), fault.error)
        case "garbage":
            return web.Response(body=b'{"type": "message", "cont', content_type="application/json")
        case "truncated":
            whole = json.dumps(message_body(fault.partial, message_id, model)).encode()
            return await cut_short(request, whole, {"content-type": "application/json", **_request_id()})


def _error(status: int, error: ApiError, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(error), status=status, headers={**_request_id(), **(headers or {})})


def _request_id() -> dict[str, str]:
    return {"request-id": f"req_fake_{uuid.uuid4().hex[:20]}"}
