"""The Managed Agents API's part of /openapi.json: every route it serves, its request bodies from the types
that check them (bodies.py), and its answers as the `anthropic` SDK's own models read them, so a check
of an answer against this document is a check that the SDK can parse it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anthropic.types.beta import (
    BetaEnvironment,
    BetaEnvironmentDeleteResponse,
    BetaManagedAgentsAgent,
    BetaManagedAgentsDeletedSession,
    BetaManagedAgentsSession,
)
from anthropic.types.beta.sessions import (
    BetaManagedAgentsSendSessionEvents,
    BetaManagedAgentsSessionEvent,
    BetaManagedAgentsStreamSessionEvents,
)
from pydantic import TypeAdapter

from agent_runtime.managed_agents import bodies

Schema = dict[str, Any]
PREFIX = "ManagedAgents."  # its names apart from the REST shim's own
REF_TEMPLATE = "#/components/schemas/" + PREFIX + "{model}"
OPERATION_PREFIX = "ManagedAgents."


def _query(name: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema}


PAGE = (_query("limit", {"type": "integer", "minimum": 1}), _query("page", {"type": "string"}))
ARCHIVED = _query("include_archived", {"type": "boolean"})
TIME = {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    answer: Any  # the SDK's type of the answer (of each item, for a list)
    body: bodies.Body | None = None
    query: tuple[Schema, ...] = ()
    listing: bool = False  # the answer is {"data": [...], "next_page": ...}
    stream: bool = False  # the answer is server-sent events


OPERATIONS = (
    Operation("get", "/agents", "ListAgents", BetaManagedAgentsAgent, None,
              (*PAGE, ARCHIVED, _query("created_at[gte]", TIME), _query("created_at[lte]", TIME)), listing=True),
    Operation("post", "/agents", "CreateAgent", BetaManagedAgentsAgent, bodies.AGENT_CREATE),
    Operation("get", "/agents/{agent_id}", "GetAgent", BetaManagedAgentsAgent, None,
              (_query("version", {"type": "integer", "minimum": 1}),)),
    Operation("post", "/agents/{agent_id}", "UpdateAgent", BetaManagedAgentsAgent, bodies.AGENT_UPDATE),
    Operation("get", "/agents/{agent_id}/versions", "ListAgentVersions", BetaManagedAgentsAgent, None, PAGE,
              listing=True),
    Operation("post", "/agents/{agent_id}/archive", "ArchiveAgent", BetaManagedAgentsAgent),
    Operation("get", "/environments", "ListEnvironments", BetaEnvironment, None, (*PAGE, ARCHIVED), listing=True),
    Operation("post", "/environments", "CreateEnvironment", BetaEnvironment, bodies.ENVIRONMENT_CREATE),
    Operation("get", "/environments/{environment_id}", "GetEnvironment", BetaEnvironment),
    Operation("post", "/environments/{environment_id}", "UpdateEnvironment", BetaEnvironment,
              bodies.ENVIRONMENT_UPDATE),
    Operation("post", "/environments/{environment_id}/archive", "ArchiveEnvironment", BetaEnvironment),
    Operation("delete", "/environments/{environment_id}", "DeleteEnvironment", BetaEnvironmentDeleteResponse),
    Operation("post", "/sessions", "CreateSession", BetaManagedAgentsSession, bodies.SESSION_CREATE),
    Operation("get", "/sessions", "ListSessions", BetaManagedAgentsSession, None, PAGE, listing=True),
    Operation("get", "/sessions/{session_id}", "GetSession", BetaManagedAgentsSession),
    Operation("post", "/sessions/{session_id}", "UpdateSession", BetaManagedAgentsSession, bodies.SESSION_UPDATE),
    Operation("delete", "/sessions/{session_id}", "DeleteSession", BetaManagedAgentsDeletedSession),
    Operation("post", "/sessions/{session_id}/archive", "ArchiveSession", BetaManagedAgentsSession),
    Operation("post", "/sessions/{session_id}/events", "SendSessionEvents", BetaManagedAgentsSendSessionEvents,
              bodies.EVENTS_SEND),
    Operation("get", "/sessions/{session_id}/events", "ListSessionEvents", BetaManagedAgentsSessionEvent, None,
              (*PAGE, _query("order", {"enum": ["asc", "desc"]}),
               _query("types[]", {"type": "array", "items": {"type": "string"}})), listing=True),
    Operation("get", "/sessions/{session_id}/events/stream", "StreamSessionEvents",
              BetaManagedAgentsStreamSessionEvents, None,
              (_query("event_deltas[]", {"type": "array", "items": {"enum": ["agent.message", "agent.thinking"]}}),),
              stream=True),
)  # fmt: skip
# The Anthropic SDKs' error shape.
ERROR: Schema = {
    "type": "object",
    "properties": {
        "type": {"const": "error"},
        "error": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
            "required": ["type", "message"],
        },
    },
    "required": ["type", "error"],
}


class _Components:
    """The schemas of the SDK's types and the bodies' types, each named once under PREFIX."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}

    def of(self, adapter: TypeAdapter[Any]) -> Schema:
        schema = adapter.json_schema(ref_template=REF_TEMPLATE)
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas[PREFIX + name] = definition
        return schema


def _answer(operation: Operation, components: _Components) -> Schema:
    item = components.of(TypeAdapter(operation.answer))
    if operation.stream:
        data = {"type": "string", "contentMediaType": "application/json", "contentSchema": item}
        sse = {
            "type": "object",
            "properties": {"event": {"type": "string"}, "id": {"type": "string"}, "data": data},
            "required": ["data", "event"],
        }
        return {"text/event-stream": {"itemSchema": sse}}
    if operation.listing:
        page = {"type": ["string", "null"]}
        item = {
            "type": "object",
            "properties": {"data": {"type": "array", "items": item}, "next_page": page, "prev_page": page},
            "required": ["data"],
        }
    return {"application/json": {"schema": item}}


def _operation(operation: Operation, components: _Components) -> Schema:
    path_names = [part[1:-1] for part in operation.path.split("/") if part.startswith("{")]
    described: Schema = {
        "operationId": OPERATION_PREFIX + operation.operation_id,
        "tags": ["Managed Agents"],
        "parameters": [
            *(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                for name in path_names
            ),
            *operation.query,
        ],
        "responses": {
            "200": {"description": "OK", "content": _answer(operation, components)},
            "default": {"description": "an error", "content": {"application/json": {"schema": ERROR}}},
        },
        "security": [{"apiKey": []}],
    }
    if operation.body is not None:
        schema = components.of(operation.body.adapter)
        described["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return described


def paths(prefix: str) -> tuple[dict[str, Schema], dict[str, Schema]]:
    """The served routes under `prefix` (where the app is mounted), and the component schemas they name."""
    components, found = _Components(), dict[str, Schema]()
    for operation in OPERATIONS:
        found.setdefault(prefix + operation.path, {})[operation.method] = _operation(operation, components)
    return found, components.schemas
