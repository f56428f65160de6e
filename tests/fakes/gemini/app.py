"""The fake's HTTP surface: the handler of every request to its aiohttp application.

- `POST /{version}/models/{model}:generateContent`: the answer as one JSON GenerateContentResponse.
- `POST /{version}/models/{model}:streamGenerateContent?alt=sse`: the answer as SSE chunks (without
  `alt=sse`, as the JSON array of the chunks, like the real API).
- `POST /{version}/models/{model}:countTokens`: an estimate from the body's size.
- Anything else: 404 with Google's error body, recorded as unexpected.

The API's endpoints check the key first (`x-goog-api-key` or `?key=`): none gets 403 PERMISSION_DENIED, a
wrong one 400 INVALID_ARGUMENT with reason API_KEY_INVALID, as Google answers. Then the body's shape
(`contents`, each with a role of user or model and a non-empty `parts` list, and each turn of function calls
followed by as many function responses): a request the real API would refuse gets a 400 and is recorded as
unexpected, since no client of ours should send one.

A generate call whose generationConfig asks for `responseMimeType: application/json` (the Gemini CLI's
router and other auxiliary calls) is answered with an instance of its schema and takes no scripted answer;
any other takes the next answer of the script its `x-fake-script` header selects ("default" without one).
A script with nothing left answers 400 FAILED_PRECONDITION (which clients do not retry, where the Gemini CLI
would retry a 500 for minutes) and is recorded as unexpected.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from tests.fakes.gemini import responses
from tests.fakes.gemini.recording import RecordedRequest
from tests.fakes.gemini.script import Answer, ApiError, HttpFault, StreamFault, Turn
from tests.fakes.shared import Handler, cut_short, drop_connection, json_or_none, script_of

ROLES = frozenset({"user", "model"})
_ENDPOINT = re.compile(r"^/(?P<version>v[0-9a-z]+)/models/(?P<model>[^/:]+):(?P<rpc>[A-Za-z]+)$")
_RPCS = frozenset({"generateContent", "streamGenerateContent", "countTokens"})

_NO_KEY = ApiError(
    403,
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API.",
    "PERMISSION_DENIED",
)
_WRONG_KEY = ApiError(
    400,
    "API key not valid. Please pass a valid API key.",
    "INVALID_ARGUMENT",
    (
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
    ),
)


# The real API refuses a history where a turn of function calls is not followed by as many function responses.
_UNANSWERED_CALLS = (
    "Please ensure that the number of function response parts is equal to the number of function call parts of "
    "the function call turn."
)


class GeminiHandler(Handler[Answer, RecordedRequest]):
    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json_or_none(raw)
        match = _ENDPOINT.match(request.path)
        rpc = match["rpc"] if match and match["rpc"] in _RPCS and request.method == "POST" else None
        model = match["model"] if match else None
        headers = {name.lower(): value for name, value in request.headers.items()}
        recorded = RecordedRequest(request.method, request.path, dict(request.query), headers, body, model, rpc, None)
        scripted = rpc in ("generateContent", "streamGenerateContent") and not recorded.json_call
        if scripted:
            recorded = dataclasses.replace(recorded, script=script_of(request))
        self.recording.request(recorded)

        if rpc is None or model is None:
            self.recording.unexpected(f"{request.method} {request.path}: the fake has no such endpoint")
            return _error(ApiError(404, f"Method not found: {request.method} {request.path}", "NOT_FOUND"))
        refusal = self._refusal(recorded)
        if refusal is not None:
            return refusal
        if rpc == "countTokens":
            return web.json_response({"totalTokens": max(1, len(raw) // 4)})
        stream = rpc == "streamGenerateContent"
        sse = request.query.get("alt") == "sse"
        response_id = uuid.uuid4().hex[:22]
        if recorded.json_call:
            config = recorded.generation_config
            value = responses.schema_instance(config.get("responseJsonSchema") or config.get("responseSchema"))
            answer = responses.json_answer(value, response_id, model)
            return await _chunks(request, [answer], sse) if stream else web.json_response(answer)
        assert recorded.script is not None
        taken = self.scripts.take(recorded.script)
        if taken is None:
            self.recording.unexpected(f"POST {request.path}: script {recorded.script!r} has no answer left")
            message = f"the fake Gemini API has no scripted answer left in script {recorded.script!r}"
            return _error(ApiError(400, message, "FAILED_PRECONDITION"))
        return await _answer(request, taken, response_id, model, stream, sse, self.recording.text_sent)

    def _refusal(self, request: RecordedRequest) -> web.Response | None:
        """The error the real API would answer with for this request's key or body, if any."""
        if request.api_key is None:
            return _error(_NO_KEY)
        if request.api_key != self.api_key:
            return _error(_WRONG_KEY)
        problem = _shape_problem(request)
        if problem is None:
            return None
        self.recording.unexpected(f"{request.method} {request.path}: {problem}")
        return _error(ApiError(400, problem, "INVALID_ARGUMENT"))


def _shape_problem(request: RecordedRequest) -> str | None:
    if not isinstance(request.body, dict):
        return "the body is not a JSON object"
    if request.rpc == "countTokens":
        return None
    contents = request.body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for position, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role", "user") not in ROLES:
            return f"* GenerateContentRequest.contents[{position}].role: must be user or model"
        if not isinstance(content.get("parts"), list) or not content["parts"]:
            return f"* GenerateContentRequest.contents[{position}].parts: contents.parts must not be empty."
    for position, content in enumerate(contents[:-1]):
        if _count(content, "functionCall") != _count(contents[position + 1], "functionResponse"):
            return _UNANSWERED_CALLS
    return None


def _count(content: dict[str, Any], kind: str) -> int:
    """How many parts of `kind` (functionCall, functionResponse) the content has."""
    return sum(1 for part in content["parts"] if isinstance(part, dict) and kind in part)


async def _answer(
    request: web.Request,
    answer: Answer,
    response_id: str,
    model: str,
    stream: bool,
    sse: bool,
    text_sent: Callable[[], None],
) -> web.StreamResponse:
    match answer:
        case HttpFault():
            return _error(answer.error, answer.headers)
        case Turn() if stream:
            return await _chunks(request, responses.chunks(answer, response_id, model), sse, text_sent=text_sent)
        case Turn():
            return web.json_response(responses.whole(answer, response_id, model))
        case StreamFault() if stream:
            return await _broken_stream(request, answer, response_id, model, sse)
        case StreamFault():
            return await _broken_json(request, answer, response_id, model)


async def _chunks(
    request: web.Request,
    chunks: list[responses.Chunk],
    sse: bool,
    tail: bytes = b"",
    text_sent: Callable[[], None] = lambda: None,
) -> web.StreamResponse:
    """The chunks as SSE events, or (without `alt=sse`) as the pieces of one JSON array."""
    content_type = "text/event-stream" if sse else "application/json; charset=UTF-8"
    response = web.StreamResponse(headers={"content-type": content_type})
    await response.prepare(request)
    texts = [chunk for chunk in chunks if responses.has_text(chunk)]
    for position, chunk in enumerate(chunks):
        if sse:
            await response.write(responses.encode(chunk))
        else:
            await response.write((b"[" if position == 0 else b",\r\n") + json.dumps(chunk).encode())
        if texts and chunk is texts[0]:
            text_sent()
    if tail:
        await response.write(tail)
    elif not sse:
        await response.write(b"]")
    return response


async def _broken_stream(
    request: web.Request, fault: StreamFault, response_id: str, model: str, sse: bool
) -> web.StreamResponse:
    chunks = responses.partial_chunks(fault.partial, response_id, model)
    match fault.kind:
        case "malformed":
            return await _chunks(request, chunks, sse, responses.MALFORMED if sse else b',\r\n{"candidates": [{"con')
        case "truncated":
            response = await _chunks(request, chunks, sse, b" ")  # a tail, so no closing bracket is written
            drop_connection(request)
            return response


async def _broken_json(request: web.Request, fault: StreamFault, response_id: str, model: str) -> web.StreamResponse:
    match fault.kind:
        case "malformed":
            return web.Response(body=b'{"candidates": [{"content": {"ro', content_type="application/json")
        case "truncated":
            whole = json.dumps(responses.whole(fault.partial, response_id, model)).encode()
            return await cut_short(request, whole, {"content-type": "application/json; charset=UTF-8"})


def _error(error: ApiError, headers: Mapping[str, str] | None = None) -> web.Response:
    body: Any = responses.error_body(error)
    return web.json_response(body, status=error.code, headers=dict(headers or {}))
