"""What the model proxy needs to know of each vendor's API: the model endpoints it forwards (no other path
or method gets the real key), where a client puts its key, how the vendor words a refusal, where usage is
in a response, and the variables that point a client at the proxy."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from multidict import MultiDict

from agent_runtime.modelproxy.usage import AnthropicUsageReader, GeminiUsageReader, Usage, UsageReader


class Vendor(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_variable(self) -> str:
        """Where the runtime takes this vendor's real key from."""
        ...

    @property
    def port(self) -> int:
        """The port the proxy serves this vendor's API on inside a sandbox; unlikely to be a dev server's."""
        ...

    def forwards(self, method: str, path: str) -> bool:
        """Whether the request is one of the model endpoints the CLIs and SDKs use (path already decoded)."""
        ...

    def most_tokens(self, body: bytes) -> int:
        """What the request may spend at most, as it says itself: its input (a token per 4 bytes, an upper
        estimate) and its output limit. Reserved from the budget while it runs."""
        ...

    def presented_token(self, request: web.Request) -> str: ...

    def authorized(
        self, headers: Mapping[str, str], query: Mapping[str, str], api_key: str
    ) -> tuple[dict[str, str], MultiDict[str]]:
        """The request's headers and query with the client's key taken out and the real one put in."""
        ...

    def refusal(self, status: int, message: str) -> web.Response: ...

    def usage_reader(self, usage: Usage, streamed: bool) -> UsageReader: ...

    def environment(self, base_url: str, token: str) -> dict[str, str]:
        """What a client in the sandbox needs to reach this vendor through the proxy."""
        ...


def _without(mapping: Mapping[str, str], names: set[str]) -> dict[str, str]:
    return {k: v for k, v in mapping.items() if k.lower() not in names}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _whole_number(value: Any, default: int) -> int:
    return value if isinstance(value, int) and value > 0 else default


# Gemini's output limit when a request names none (its 2.5 models' own).
GEMINI_DEFAULT_MAX_OUTPUT_TOKENS = 65_536


# The Messages API and its token count: what Claude Code and the anthropic SDK call.
ANTHROPIC_ENDPOINTS = frozenset({"/v1/messages", "/v1/messages/count_tokens"})
# A model's generate, stream and count calls: what the Gemini CLI calls. A model name has no "/" or "%"
# and does not start with a dot, so no path segment can step out of /models.
GEMINI_ENDPOINT = re.compile(
    r"/v1(?:alpha|beta)?/models/[A-Za-z0-9][A-Za-z0-9._-]*:(?:generateContent|streamGenerateContent|countTokens)"
)


@dataclass(frozen=True)
class Anthropic:
    name: str = "anthropic"
    key_variable: str = "ANTHROPIC_API_KEY"
    port: int = 41017

    def forwards(self, method: str, path: str) -> bool:
        return method == "POST" and path in ANTHROPIC_ENDPOINTS

    def most_tokens(self, body: bytes) -> int:
        return len(body) // 4 + _whole_number(_json_object(body).get("max_tokens"), 0)

    def presented_token(self, request: web.Request) -> str:
        if "x-api-key" in request.headers:
            return request.headers["x-api-key"]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" else ""

    def authorized(
        self, headers: Mapping[str, str], query: Mapping[str, str], api_key: str
    ) -> tuple[dict[str, str], MultiDict[str]]:
        return {**_without(headers, {"x-api-key", "authorization"}), "x-api-key": api_key}, MultiDict(query)

    def refusal(self, status: int, message: str) -> web.Response:
        error_type = {
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            413: "request_too_large",
            429: "rate_limit_error",
        }.get(status, "api_error")
        return web.json_response({"type": "error", "error": {"type": error_type, "message": message}}, status=status)

    def usage_reader(self, usage: Usage, streamed: bool) -> UsageReader:
        return AnthropicUsageReader(usage, streamed)

    def environment(self, base_url: str, token: str) -> dict[str, str]:
        return {"ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": token}


@dataclass(frozen=True)
class Gemini:
    name: str = "gemini"
    key_variable: str = "GEMINI_API_KEY"
    port: int = 41018

    def forwards(self, method: str, path: str) -> bool:
        return method == "POST" and GEMINI_ENDPOINT.fullmatch(path) is not None

    def most_tokens(self, body: bytes) -> int:
        config = _json_object(body).get("generationConfig")
        limit = config.get("maxOutputTokens") if isinstance(config, dict) else None
        return len(body) // 4 + _whole_number(limit, GEMINI_DEFAULT_MAX_OUTPUT_TOKENS)

    def presented_token(self, request: web.Request) -> str:
        return request.headers.get("x-goog-api-key") or request.query.get("key", "")

    def authorized(
        self, headers: Mapping[str, str], query: Mapping[str, str], api_key: str
    ) -> tuple[dict[str, str], MultiDict[str]]:
        forwarded = MultiDict((k, v) for k, v in query.items() if k != "key")
        return {**_without(headers, {"x-goog-api-key", "authorization"}), "x-goog-api-key": api_key}, forwarded

    def refusal(self, status: int, message: str) -> web.Response:
        code = {
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            413: "INVALID_ARGUMENT",
            429: "RESOURCE_EXHAUSTED",
        }.get(status, "UNAVAILABLE")
        return web.json_response({"error": {"code": status, "message": message, "status": code}}, status=status)

    def usage_reader(self, usage: Usage, streamed: bool) -> UsageReader:
        return GeminiUsageReader(usage, streamed)

    def environment(self, base_url: str, token: str) -> dict[str, str]:
        return {"GOOGLE_GEMINI_BASE_URL": base_url, "GEMINI_API_KEY": token}


ANTHROPIC = Anthropic()
GEMINI = Gemini()
