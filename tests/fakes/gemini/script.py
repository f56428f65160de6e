"""What a test scripts: the answers the fake gives, one per scripted generateContent or streamGenerateContent
call, in order.

An answer is a `Turn` (a model message made of parts), an `HttpFault` (an error status with Google's error
body) or a `StreamFault` (a stream that starts like a turn and then breaks). Build them with the helpers
here: `Turn.text("Hi")`, `Turn.function_call("write_file", {...})`, `Turn([thought("..."), text("...")])`,
`Fault.overloaded()`, `Fault.truncated()`, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.fakes.shared import pieces as pieces  # re-exported: test_fake_gemini.py checks streams against it

# How many chunks a text or thought part is streamed in, unless a test says otherwise.
DEFAULT_PIECES = 3


@dataclass(frozen=True)
class TextPart:
    text: str
    pieces: int = DEFAULT_PIECES


@dataclass(frozen=True)
class ThoughtPart:
    """A part with `thought: true`: the model's reasoning summary, which the API sends only when asked to
    include thoughts (the Gemini CLI asks)."""

    text: str
    pieces: int = DEFAULT_PIECES


@dataclass(frozen=True)
class FunctionCallPart:
    """A functionCall part, always whole in one chunk as the API streams it. `id` is left out of the part
    unless given (Gemini 2.5 models send none; the CLI then makes its own)."""

    name: str
    args: Mapping[str, Any]
    id: str | None = None


Part = TextPart | ThoughtPart | FunctionCallPart


def text(content: str, *, pieces: int = DEFAULT_PIECES) -> TextPart:
    return TextPart(content, pieces)


def thought(content: str, *, pieces: int = 1) -> ThoughtPart:
    return ThoughtPart(content, pieces)


def function_call(name: str, args: Mapping[str, Any], *, id: str | None = None) -> FunctionCallPart:
    return FunctionCallPart(name, dict(args), id)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 100
    output_tokens: int = 20
    thoughts_tokens: int = 0
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens + self.thoughts_tokens


@dataclass(frozen=True)
class Turn:
    """One model message. `model_version` defaults to the model the request's path named."""

    parts: Sequence[Part] = ()
    finish_reason: str = "STOP"
    usage: Usage = field(default_factory=Usage)
    model_version: str | None = None

    @classmethod
    def text(cls, content: str, *, usage: Usage | None = None) -> Turn:
        return cls([text(content)], usage=usage or Usage())

    @classmethod
    def function_call(
        cls, name: str, args: Mapping[str, Any], *, id: str | None = None, usage: Usage | None = None
    ) -> Turn:
        return cls([function_call(name, args, id=id)], usage=usage or Usage())


@dataclass(frozen=True)
class ApiError:
    """Google's error body: `{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED",
    "details": [...]}}`; `code` is also the HTTP status."""

    code: int
    message: str
    status: str
    details: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class HttpFault:
    """An answer with an error status and Google's error body, streaming request or not."""

    error: ApiError
    headers: Mapping[str, str] = field(default_factory=dict)


StreamBreak = Literal["malformed", "truncated"]


@dataclass(frozen=True)
class StreamFault:
    """A stream that sends the chunks of `partial` without its finishing one (no finishReason, no
    usageMetadata), then breaks:

    - "malformed": an SSE event whose data is cut mid-JSON, then the response ends normally;
    - "truncated": the connection is closed in the middle of the chunked body.

    A non-streaming request given this answer gets the same break in JSON form: a 200 whose body is not
    JSON, or a body cut short by the connection closing.
    """

    kind: StreamBreak
    partial: Turn


Answer = Turn | HttpFault | StreamFault

_PARTIAL = Turn([TextPart("A partial answer that never ")])
_HELP = "https://ai.google.dev/gemini-api/docs/rate-limits"


class Fault:
    """Builders of the faulty answers, with the messages and details the real API sends."""

    @staticmethod
    def http(
        code: int,
        status: str,
        message: str,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> HttpFault:
        return HttpFault(ApiError(code, message, status, tuple(details)), dict(headers or {}))

    @staticmethod
    def bad_request(message: str = "Request contains an invalid argument.") -> HttpFault:
        return Fault.http(400, "INVALID_ARGUMENT", message)

    @staticmethod
    def rate_limited(retry_delay: str | None = "1s") -> HttpFault:
        """A per-minute 429, which clients retry (after `retry_delay`, Google's RetryInfo, when given)."""
        details: list[Mapping[str, Any]] = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more", "url": _HELP}]},
        ]
        if retry_delay is not None:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        message = "You exceeded your current quota, please check your plan and billing details."
        return Fault.http(429, "RESOURCE_EXHAUSTED", message, details)

    @staticmethod
    def quota_exhausted() -> HttpFault:
        """A per-day 429: the Gemini CLI takes it as terminal and does not retry."""
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    }
                ],
            }
        ]
        message = "You exceeded your current quota, please check your plan and billing details."
        return Fault.http(429, "RESOURCE_EXHAUSTED", message, details)

    @staticmethod
    def server_error() -> HttpFault:
        return Fault.http(500, "INTERNAL", "An internal error has occurred. Please retry or report the problem.")

    @staticmethod
    def overloaded() -> HttpFault:
        return Fault.http(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")

    @staticmethod
    def malformed(partial: Turn = _PARTIAL) -> StreamFault:
        return StreamFault("malformed", partial)

    @staticmethod
    def truncated(partial: Turn = _PARTIAL) -> StreamFault:
        return StreamFault("truncated", partial)
