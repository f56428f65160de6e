"""What the fake was sent: every request, and the calls it did not expect.

Written by the fake's own thread and read by the test's, so every access holds a lock and readers get copies.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names in lower case
    body: Any  # the parsed JSON body; None when there was none or it was not JSON
    script: str | None  # the script that answered, for the endpoints that take scripted answers

    @property
    def api_key(self) -> str | None:
        """The key the client authenticated with, from `x-api-key` or `Authorization: Bearer`."""
        return api_key_of(self.headers)

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True

    @property
    def messages(self) -> list[dict[str, Any]]:
        found = self.body.get("messages") if isinstance(self.body, dict) else None
        return found if isinstance(found, list) else []

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool_result block in the request's messages, in order."""
        return [
            block
            for message in self.messages
            if isinstance(message.get("content"), list)
            for block in message["content"]
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]


def api_key_of(headers: Mapping[str, str]) -> str | None:
    """The key in `x-api-key`, else the token in `Authorization: Bearer` (headers looked up case-insensitively
    when `headers` is aiohttp's, by lower-case name when it is a recorded request's)."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    authorization = headers.get("authorization", "")
    return authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None


class Recording:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._unexpected: list[str] = []

    def request(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def unexpected(self, description: str) -> None:
        with self._lock:
            self._unexpected.append(description)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def unexpected_calls(self) -> list[str]:
        with self._lock:
            return list(self._unexpected)
