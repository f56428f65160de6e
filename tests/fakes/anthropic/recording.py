"""A request the fake Anthropic API was sent, with the views of its body tests assert on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.fakes.shared import HttpRequest, nested_dicts


@dataclass(frozen=True)
class RecordedRequest(HttpRequest):
    script: str | None  # the script that answered, for the endpoints that take scripted answers

    @property
    def api_key(self) -> str | None:
        """The key the client authenticated with, from `x-api-key` or `Authorization: Bearer`."""
        return api_key_of(self.headers)

    @property
    def stream(self) -> bool:
        return self._body_get("stream") is True

    @property
    def messages(self) -> list[dict[str, Any]]:
        found = self._body_get("messages")
        return found if isinstance(found, list) else []

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool_result block in the request's messages, in order."""
        return [block for block in nested_dicts(self.messages, "content") if block.get("type") == "tool_result"]


def api_key_of(headers: Mapping[str, str]) -> str | None:
    """The key in `x-api-key`, else the token in `Authorization: Bearer` (headers looked up case-insensitively
    when `headers` is aiohttp's, by lower-case name when it is a recorded request's)."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    authorization = headers.get("authorization", "")
    return authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
