"""The JSON bodies of the Gemini API: GenerateContentResponse (whole, or as the chunks a stream sends), the
SSE encoding of a chunk, Google's error body, and an instance of a requested JSON schema.

A stream is `data: <GenerateContentResponse>\\r\\n\\r\\n` per chunk, with no `event:` lines; every chunk carries
modelVersion and responseId, and only the last one finishReason and usageMetadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tests.fakes.gemini.script import ApiError, FunctionCallPart, Part, TextPart, ThoughtPart, Turn, Usage
from tests.fakes.shared import pieces

Chunk = dict[str, Any]


def encode(chunk: Chunk) -> bytes:
    return f"data: {json.dumps(chunk)}\r\n\r\n".encode()


# An SSE event the client cannot read: its data is cut mid-JSON.
MALFORMED = b'data: {"candidates": [{"content": {"role": "model", "parts": [{"text": "cut sho\r\n\r\n'


def has_text(chunk: Chunk) -> bool:
    """Whether the chunk carries answer text (not a thought, not a function call)."""
    parts = chunk["candidates"][0]["content"]["parts"]
    return any("text" in part and not part.get("thought") for part in parts)


def chunks(turn: Turn, response_id: str, model: str) -> list[Chunk]:
    """The stream of `turn`: text and thoughts in several chunks, each function call whole in one."""
    pieces_of_parts = [piece for part in turn.parts for piece in _streamed(part)]
    found = [_chunk([piece], response_id, turn.model_version or model) for piece in pieces_of_parts]
    if not found:
        found = [_chunk([], response_id, turn.model_version or model)]
    found[-1]["candidates"][0]["finishReason"] = turn.finish_reason
    found[-1]["usageMetadata"] = usage_body(turn.usage)
    return found


def partial_chunks(turn: Turn, response_id: str, model: str) -> list[Chunk]:
    """The chunks of `turn` as they stream before it finishes: no finishReason, no usageMetadata."""
    found = chunks(turn, response_id, model)
    del found[-1]["candidates"][0]["finishReason"]
    del found[-1]["usageMetadata"]
    return found


def whole(turn: Turn, response_id: str, model: str) -> dict[str, Any]:
    """The non-streaming response: each part whole."""
    body = _chunk([_part(part) for part in turn.parts], response_id, turn.model_version or model)
    body["candidates"][0]["finishReason"] = turn.finish_reason
    body["usageMetadata"] = usage_body(turn.usage)
    return body


def json_answer(value: Any, response_id: str, model: str) -> dict[str, Any]:
    """The answer to a call that asked for `responseMimeType: application/json`: the JSON as one text part."""
    body = _chunk([{"text": json.dumps(value)}], response_id, model)
    body["candidates"][0]["finishReason"] = "STOP"
    body["usageMetadata"] = usage_body(Usage(prompt_tokens=50, output_tokens=10))
    return body


def usage_body(usage: Usage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "promptTokenCount": usage.prompt_tokens,
        "candidatesTokenCount": usage.output_tokens,
        "totalTokenCount": usage.total_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.prompt_tokens}],
    }
    if usage.thoughts_tokens:
        body["thoughtsTokenCount"] = usage.thoughts_tokens
    if usage.cached_tokens:
        body["cachedContentTokenCount"] = usage.cached_tokens
    return body


def error_body(error: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message, "status": error.status}
    if error.details:
        body["details"] = [dict(detail) for detail in error.details]
    return {"error": body}


def schema_instance(schema: Any) -> Any:
    """A value that satisfies `schema`, a JSON Schema (responseJsonSchema) or the API's OpenAPI subset
    (responseSchema, with upper-case types): the first enum value, every property, the minimum of numbers (else 1).
    The Gemini CLI's router asks for {complexity_reasoning, complexity_score} and wants a score of 1 to 100."""
    if not isinstance(schema, Mapping):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for alternatives in ("anyOf", "oneOf", "allOf"):
        if schema.get(alternatives):
            return schema_instance(schema[alternatives][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    kind = str(kind or ("object" if "properties" in schema else "string")).lower()
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: schema_instance(sub) for name, sub in properties.items()}
    if kind == "array":
        return [schema_instance(schema.get("items")) for _ in range(int(schema.get("minItems") or 0))]
    if kind in ("integer", "number"):  # 1 unless bounded otherwise: scores and counts tend to start there
        high = schema.get("maximum")
        low = schema.get("minimum", 1 if high is None or high >= 1 else high)
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "fake answer"


def _chunk(parts: list[dict[str, Any]], response_id: str, model: str) -> Chunk:
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
        "modelVersion": model,
        "responseId": response_id,
    }


def _streamed(part: Part) -> list[dict[str, Any]]:
    match part:
        case TextPart():
            return [{"text": piece} for piece in pieces(part.text, part.pieces)]
        case ThoughtPart():
            return [{"text": piece, "thought": True} for piece in pieces(part.text, part.pieces)]
        case FunctionCallPart():
            return [_part(part)]


def _part(part: Part) -> dict[str, Any]:
    match part:
        case TextPart():
            return {"text": part.text}
        case ThoughtPart():
            return {"text": part.text, "thought": True}
        case FunctionCallPart():
            call: dict[str, Any] = {"name": part.name, "args": dict(part.args)}
            if part.id is not None:
                call["id"] = part.id
            return {"functionCall": call}
