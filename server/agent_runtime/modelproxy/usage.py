"""Token usage read from model API responses as they pass through the proxy, streamed (SSE) or not."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


class UsageReader:
    """Fed a response body chunk by chunk; adds what it finds to `usage`. Each vendor says where."""

    def __init__(self, usage: Usage, streamed: bool) -> None:
        self._usage = usage
        self._streamed = streamed
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        if not self._streamed:
            return
        *lines, rest = self._buffer.split(b"\n")
        self._buffer = rest
        for line in lines:
            if line.startswith(b"data:") and isinstance(event := _json(line[5:]), dict):
                self.event(event)

    def close(self) -> None:
        if self._streamed:
            return
        # A JSON array is a stream sent whole (Gemini's streamGenerateContent without alt=sse).
        parsed = _json(self._buffer)
        for body in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(body, dict):
                self.body(body)

    def event(self, event: dict[str, Any]) -> None:
        """One server-sent event's data."""

    def body(self, body: dict[str, Any]) -> None:
        """A whole JSON response."""


def _json(data: bytes | bytearray) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _count(usage: Any, *keys: str) -> int:
    return sum(int(usage.get(key) or 0) for key in keys) if isinstance(usage, dict) else 0


_ANTHROPIC_INPUT = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


class AnthropicUsageReader(UsageReader):
    def event(self, event: dict[str, Any]) -> None:
        # message_start carries the input count, message_delta the final output count.
        if event.get("type") == "message_start":
            self._usage.input_tokens += _count(event.get("message", {}).get("usage"), *_ANTHROPIC_INPUT)
        elif event.get("type") == "message_delta":
            self._usage.output_tokens += _count(event.get("usage"), "output_tokens")

    def body(self, body: dict[str, Any]) -> None:
        self._usage.input_tokens += _count(body.get("usage"), *_ANTHROPIC_INPUT)
        self._usage.output_tokens += _count(body.get("usage"), "output_tokens")


class GeminiUsageReader(UsageReader):
    """Gemini repeats the usage so far in its chunks; the last one seen is the response's."""

    def __init__(self, usage: Usage, streamed: bool) -> None:
        super().__init__(usage, streamed)
        self._last: dict[str, Any] = {}

    def event(self, event: dict[str, Any]) -> None:
        if isinstance(event.get("usageMetadata"), dict):
            self._last = event["usageMetadata"]

    def body(self, body: dict[str, Any]) -> None:
        self.event(body)

    def close(self) -> None:
        super().close()
        self._usage.input_tokens += _count(self._last, "promptTokenCount")
        self._usage.output_tokens += _count(self._last, "candidatesTokenCount", "thoughtsTokenCount")
