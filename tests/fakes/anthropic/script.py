"""What a test scripts: the answers the fake gives, one per `POST /v1/messages`, in order.

An answer is a `Turn` (an assistant message made of blocks), an `HttpFault` (an error status with an
Anthropic error body) or a `StreamFault` (a stream that starts like a turn and then breaks). Build them
with the helpers here: `Turn.text("Hi")`, `Turn.tool_use("Write", {...})`,
`Turn([thinking("..."), text("...")])`, `Fault.overloaded()`, `Fault.error_event()`, ...
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# How many delta events a block's content is streamed in, unless a test says otherwise.
DEFAULT_PIECES = 3


@dataclass(frozen=True)
class TextBlock:
    text: str
    pieces: int = DEFAULT_PIECES


@dataclass(frozen=True)
class ThinkingBlock:
    thinking: str
    signature: str
    pieces: int = DEFAULT_PIECES


@dataclass(frozen=True)
class ToolUseBlock:
    name: str
    input: Mapping[str, Any]
    id: str
    pieces: int = DEFAULT_PIECES  # the input's JSON is cut at these points, whatever they fall on


Block = TextBlock | ThinkingBlock | ToolUseBlock


def text(content: str, *, pieces: int = DEFAULT_PIECES) -> TextBlock:
    """A text block, streamed as `pieces` text_delta events."""
    return TextBlock(content, pieces)


def thinking(content: str, *, signature: str | None = None, pieces: int = DEFAULT_PIECES) -> ThinkingBlock:
    """A thinking block, streamed as `pieces` thinking_delta events and one signature_delta."""
    return ThinkingBlock(content, signature or f"fake-signature-{uuid.uuid4().hex[:16]}", pieces)


def tool_use(
    name: str, input: Mapping[str, Any], *, id: str | None = None, pieces: int = DEFAULT_PIECES
) -> ToolUseBlock:
    """A tool_use block; its input is streamed as `pieces` input_json_delta fragments cut mid-JSON."""
    return ToolUseBlock(name, dict(input), id or f"toolu_fake_{uuid.uuid4().hex[:20]}", pieces)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 25
    output_tokens: int = 12
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@dataclass(frozen=True)
class Turn:
    """One assistant message. `stop_reason` defaults to "tool_use" when a block is a tool_use, else "end_turn";
    `model` defaults to the model the request named; the fake waits `delay_seconds` before it answers, as a
    model that thinks a while."""

    blocks: Sequence[Block] = ()
    stop_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None
    delay_seconds: float = 0.0

    @classmethod
    def text(cls, content: str, *, usage: Usage | None = None, delay_seconds: float = 0.0) -> Turn:
        return cls([text(content)], usage=usage or Usage(), delay_seconds=delay_seconds)

    @classmethod
    def tool_use(
        cls, name: str, input: Mapping[str, Any], *, id: str | None = None, usage: Usage | None = None
    ) -> Turn:
        return cls([tool_use(name, input, id=id)], usage=usage or Usage())

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [block for block in self.blocks if isinstance(block, ToolUseBlock)]

    @property
    def final_stop_reason(self) -> str:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if self.tool_uses else "end_turn"


@dataclass(frozen=True)
class ApiError:
    """The error inside an Anthropic error body: `{"type": "error", "error": {"type": ..., "message": ...}}`."""

    type: str
    message: str


@dataclass(frozen=True)
class HttpFault:
    """An answer with an error status and an Anthropic error body, streaming request or not."""

    status: int
    error: ApiError
    headers: Mapping[str, str] = field(default_factory=dict)


StreamBreak = Literal["error_event", "garbage", "truncated"]


@dataclass(frozen=True)
class StreamFault:
    """A stream that sends `partial` up to its last block's content_block_stop (so that block is left open),
    then breaks:

    - "error_event": an `event: error` carrying `error`, then the response ends normally;
    - "garbage": a line that is not SSE, then an event whose data is not JSON, then the response ends;
    - "truncated": the connection is closed in the middle of the chunked body.

    A non-streaming request given this answer gets the same break in JSON form: `error` with its HTTP status,
    a 200 whose body is not JSON, or a body cut short by the connection closing.
    """

    kind: StreamBreak
    partial: Turn
    error: ApiError = ApiError("overloaded_error", "Overloaded")


Answer = Turn | HttpFault | StreamFault

# The HTTP status the real API gives each error type.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

_PARTIAL = Turn([TextBlock("A partial answer that never ")])


class Fault:
    """Builders of the faulty answers."""

    @staticmethod
    def http(status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None) -> HttpFault:
        return HttpFault(status, ApiError(error_type, message), dict(headers or {}))

    @staticmethod
    def bad_request(message: str = "bad request from the fake") -> HttpFault:
        return Fault.http(400, "invalid_request_error", message)

    @staticmethod
    def rate_limited(retry_after: int | None = 1) -> HttpFault:
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        return Fault.http(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit", headers)

    @staticmethod
    def server_error() -> HttpFault:
        return Fault.http(500, "api_error", "Internal server error")

    @staticmethod
    def overloaded() -> HttpFault:
        return Fault.http(529, "overloaded_error", "Overloaded")

    @staticmethod
    def error_event(
        partial: Turn = _PARTIAL, error_type: str = "overloaded_error", message: str = "Overloaded"
    ) -> StreamFault:
        return StreamFault("error_event", partial, ApiError(error_type, message))

    @staticmethod
    def garbage(partial: Turn = _PARTIAL) -> StreamFault:
        return StreamFault("garbage", partial)

    @staticmethod
    def truncated(partial: Turn = _PARTIAL) -> StreamFault:
        return StreamFault("truncated", partial)
