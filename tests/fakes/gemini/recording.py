"""A request the fake Gemini API was sent, with the views of its body tests assert on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes.shared import HttpRequest, nested_dicts


@dataclass(frozen=True)
class RecordedRequest(HttpRequest):
    model: str | None  # from the path, for the API's endpoints
    rpc: str | None  # "generateContent", "streamGenerateContent" or "countTokens"
    script: str | None  # the script that answered: only for calls that take scripted answers

    @property
    def api_key(self) -> str | None:
        """The key the client sent, as `x-goog-api-key` or the `key` query parameter."""
        return self.headers.get("x-goog-api-key", self.query.get("key"))

    @property
    def generation_config(self) -> dict[str, Any]:
        found = self._body_get("generationConfig")
        return found if isinstance(found, dict) else {}

    @property
    def json_call(self) -> bool:
        """A call asking for JSON (the CLI's router and other auxiliary calls), answered from its schema."""
        return self.generation_config.get("responseMimeType") == "application/json"

    @property
    def contents(self) -> list[dict[str, Any]]:
        """The conversation sent, oldest first: `{"role": "user"|"model", "parts": [...]}`."""
        found = self._body_get("contents")
        return [content for content in found if isinstance(content, dict)] if isinstance(found, list) else []

    @property
    def parts(self) -> list[dict[str, Any]]:
        """Every part of every content, in order."""
        return nested_dicts(self.contents, "parts")

    @property
    def texts(self) -> list[str]:
        """The text of every part that has some (thoughts included)."""
        return [part["text"] for part in self.parts if isinstance(part.get("text"), str)]

    @property
    def function_calls(self) -> list[dict[str, Any]]:
        """The `functionCall` objects replayed in the history."""
        return [part["functionCall"] for part in self.parts if isinstance(part.get("functionCall"), dict)]

    @property
    def function_responses(self) -> list[dict[str, Any]]:
        """The `functionResponse` objects (tool results) in the history: `{"id", "name", "response"}`."""
        return [part["functionResponse"] for part in self.parts if isinstance(part.get("functionResponse"), dict)]

    @property
    def tool_names(self) -> list[str]:
        """The names of the function declarations offered to the model."""
        tools = self._body_get("tools")
        return [
            declaration["name"]
            for tool in tools or []
            if isinstance(tool, dict)
            for declaration in tool.get("functionDeclarations") or []
            if isinstance(declaration, dict) and isinstance(declaration.get("name"), str)
        ]
