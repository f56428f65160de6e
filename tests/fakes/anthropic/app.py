"""The fake's HTTP surface, an aiohttp application.

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

import json
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.fakes.anthropic import sse
from tests.fakes.anthropic.answers import DEFAULT_SCRIPT, SCRIPT_HEADER, Scripts
from tests.fakes.anthropic.message import error_body, message_body
from tests.fakes.anthropic.recording import RecordedRequest, Recording, api_key_of
from tests.fakes.anthropic.script import ERROR_STATUS, Answer, ApiError, HttpFault, StreamFault, Turn

MAX_BODY_BYTES = 64 * 1024 * 1024
ROLES = frozenset({"user", "assistant", "system"})


def make_app(api_key: str, scripts: Scripts, recording: Recording) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_route("*", "/{path:.*}", _Handler(api_key, scripts, recording).handle)
    return app


class _Handler:
    def __init__(self, api_key: str, scripts: Scripts, recording: Recording) -> None:
        self.api_key = api_key
        self.scripts = scripts
        self.recording = recording

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = _json_or_none(raw)
        endpoint = (request.method, request.path)
        script = request.headers.get(SCRIPT_HEADER, DEFAULT_SCRIPT) if endpoint == ("POST", "/v1/messages") else None
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
        return await _answer(request, answer, body["model"], body.get("stream") is True)

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


async def _answer(request: web.Request, answer: Answer, model: str, stream: bool) -> web.StreamResponse:
    message_id = f"msg_fake_{uuid.uuid4().hex[:20]}"
    match answer:
        case HttpFault():
            return _error(answer.status, answer.error, answer.headers)
        case Turn() if stream:
            return await _stream(request, sse.turn_events(answer, message_id, model))
        case Turn():
            return web.json_response(message_body(answer, message_id, model), headers=_request_id())
        case StreamFault() if stream:
            return await _broken_stream(request, answer, message_id, model)
        case StreamFault():
            return await _broken_json(request, answer, message_id, model)


async def _stream(request: web.Request, events: list[sse.Event], tail: bytes = b"") -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", **_request_id()}
    )
    await response.prepare(request)
    for event in events:
        await response.write(sse.encode(event))
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
            _drop_connection(request)
            return response


async def _broken_json(request: web.Request, fault: StreamFault, message_id: str, model: str) -> web.StreamResponse:
    match fault.kind:
        case "error_event":
            return _error(ERROR_STATUS.get(fault.error.type, 500), fault.error)
        case "garbage":
            return web.Response(body=b'{"type": "message", "cont', content_type="application/json")
        case "truncated":
            whole = json.dumps(message_body(fault.partial, message_id, model)).encode()
            response = web.StreamResponse(headers={"content-type": "application/json", **_request_id()})
            response.content_length = len(whole)
            await response.prepare(request)
            await response.write(whole[: len(whole) // 2])
            _drop_connection(request)
            return response


def _drop_connection(request: web.Request) -> None:
    """Closes the connection mid-body; what was written is still delivered. aiohttp then finds it cannot end
    the response and lets the connection go quietly."""
    assert request.transport is not None
    request.transport.close()


def _error(status: int, error: ApiError, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(error_body(error), status=status, headers={**_request_id(), **(headers or {})})


def _request_id() -> dict[str, str]:
    return {"request-id": f"req_fake_{uuid.uuid4().hex[:20]}"}


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
