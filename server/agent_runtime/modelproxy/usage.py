"""Token usage read from Messages API responses as they pass through, streamed (SSE) or not."""

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

    def add_input(self, usage: dict[str, Any]) -> None:
        for key in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
            self.input_tokens += int(usage.get(key) or 0)

    def add_output(self, usage: dict[str, Any]) -> None:
        self.output_tokens += int(usage.get("output_tokens") or 0)


class UsageReader:
    """Fed the response body chunk by chunk; adds what it finds to `usage`."""

    def __init__(self, usage: Usage, streamed: bool) -> None:
        self._usage = usage
        self._streamed = streamed
        self._buffer = b""

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        if not self._streamed:
            return
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                self._event(line[5:])

    def _event(self, data: bytes) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        # message_start carries the input count, message_delta the final output count.
        if event.get("type") == "message_start":
            self._usage.add_input(event.get("message", {}).get("usage", {}))
        elif event.get("type") == "message_delta":
            self._usage.add_output(event.get("usage", {}))

    def close(self) -> None:
        if self._streamed:
            return
        try:
            body = json.loads(self._buffer)
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("usage"), dict):
            self._usage.add_input(body["usage"])
            self._usage.add_output(body["usage"])
