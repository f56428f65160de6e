"""The seed's /api routes in /openapi.json: its bodies and answers as its types.ts has them."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
OPERATION_PREFIX = "Seed."
REF = "#/components/schemas/Seed."

OPTIONS: Schema = {"type": "object", "properties": {"model": {"type": "string"}}}
SANDBOX: Schema = {
    "type": "object",
    "properties": {
        "sandboxId": {"type": "string"},
        "status": {"enum": ["starting", "ready", "unhealthy", "terminated"]},
        "statusMessage": {"type": "string"},
        "restartCount": {"type": "integer"},
        "lastHealthCheck": {"type": "integer"},
    },
    "required": ["status", "restartCount", "lastHealthCheck"],
}
RUNTIME: Schema = {
    "type": "object",
    "properties": {"isLoaded": {"type": "boolean"}, "sandbox": {"oneOf": [SANDBOX, {"type": "null"}]}},
    "required": ["isLoaded", "sandbox"],
}
BLOCK_TYPES = ["user_message", "assistant_text", "tool_use", "tool_result", "thinking", "system", "subagent", "error"]
BLOCK: Schema = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "timestamp": {"type": "string"}, "type": {"enum": BLOCK_TYPES}},
    "required": ["id", "timestamp", "type"],
}
LIST_ITEM: Schema = {
    "type": "object",
    "properties": {
        "sessionId": {"type": "string"},
        "type": {"type": "string"},
        "agentProfileReference": {"type": "string"},
        "sessionOptions": {"$ref": REF + "SessionOptions"},
        "name": {"type": "string"},
        "lastActivity": {"type": "integer"},
        "createdAt": {"type": "integer"},
        "metadata": {"type": "object"},
        "runtime": {"$ref": REF + "Runtime"},
    },
    "required": ["sessionId", "type", "agentProfileReference", "runtime"],
}
BLOCKS: Schema = {"type": "array", "items": {"$ref": REF + "Block"}}
SESSION: Schema = {
    "allOf": [
        {"$ref": REF + "SessionListItem"},
        {
            "type": "object",
            "properties": {
                "blocks": BLOCKS,
                "workspaceFiles": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                        "required": ["path"],
                    },
                },
                "subagents": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "string"}, "blocks": BLOCKS},
                        "required": ["id", "blocks"],
                    },
                },
            },
            "required": ["blocks", "workspaceFiles", "subagents"],
        },
    ]
}
SCHEMAS = {
    "Seed.SessionOptions": OPTIONS,
    "Seed.Runtime": RUNTIME,
    "Seed.Block": BLOCK,
    "Seed.SessionListItem": LIST_ITEM,
    "Seed.RuntimeSessionData": SESSION,
    "Seed.Error": {
        "type": "object",
        "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
        "required": ["error"],
    },
}


def _object(properties: Schema, required: list[str]) -> Schema:
    return {"type": "object", "properties": properties, "required": required}


DONE = _object({"success": {"const": True}, "sessionId": {"type": "string"}}, ["success", "sessionId"])
CREATE = _object(
    {
        "agentProfileRef": {"type": "string", "minLength": 1},
        "architecture": {"type": "string", "minLength": 1},
        "sessionOptions": {"$ref": REF + "SessionOptions"},
    },
    ["agentProfileRef", "architecture"],
)
CREATED = _object(
    {
        "sessionId": {"type": "string"},
        "runtime": {"$ref": REF + "Runtime"},
        "createdAt": {"type": "integer"},
        "sessionOptions": {"$ref": REF + "SessionOptions"},
    },
    ["sessionId", "runtime", "createdAt", "sessionOptions"],
)
# (method, path under the prefix, operation, request body, success status, answer)
OPERATIONS: tuple[tuple[str, str, str, Schema | None, str, Schema], ...] = (
    ("post", "/sessions", "CreateSession", CREATE, "201", CREATED),
    ("get", "/sessions", "ListSessions", None, "200",
     _object({"sessions": {"type": "array", "items": {"$ref": REF + "SessionListItem"}}}, ["sessions"])),
    ("get", "/sessions/{sessionId}", "GetSession", None, "200", {"$ref": REF + "RuntimeSessionData"}),
    ("delete", "/sessions/{sessionId}", "UnloadSession", None, "200", DONE),
    ("post", "/sessions/{sessionId}/sync", "SyncSession", None, "200", DONE),
    ("patch", "/sessions/{sessionId}/options", "UpdateSessionOptions",
     _object({"sessionOptions": {"$ref": REF + "SessionOptions"}}, ["sessionOptions"]), "200",
     _object({**DONE["properties"], "sessionOptions": {"$ref": REF + "SessionOptions"}},
             ["success", "sessionId", "sessionOptions"])),
    ("post", "/sessions/{sessionId}/messages", "SendMessage",
     _object({"content": {"type": "string", "minLength": 1}}, ["content"]), "200", DONE),
)  # fmt: skip


def _operation(operation_id: str, path: str, body: Schema | None, status: str, answer: Schema) -> Schema:
    described: Schema = {
        "operationId": OPERATION_PREFIX + operation_id,
        "tags": ["The seed's /api"],
        "parameters": [
            {"name": "sessionId", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        ]
        if "{sessionId}" in path
        else [],
        "responses": {
            status: {"description": "OK", "content": {"application/json": {"schema": answer}}},
            "default": {
                "description": "an error",
                "content": {"application/json": {"schema": {"$ref": REF + "Error"}}},
            },
        },
        "security": [{"apiKey": []}],
    }
    if body is not None:
        described["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return described


def paths(prefix: str) -> tuple[dict[str, Schema], dict[str, Schema]]:
    """The seed's routes under `prefix` (where they are mounted), and the component schemas they name."""
    found: dict[str, Schema] = {}
    for method, path, operation_id, body, status, answer in OPERATIONS:
        found.setdefault(prefix + path, {})[method] = _operation(operation_id, path, body, status, answer)
    return found, SCHEMAS
