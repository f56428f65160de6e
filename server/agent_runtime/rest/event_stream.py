"""A server stream over HTTP: server-sent events (one per message, `id:` the event's sequence, `event:` the
seed's event name, keep-alive comments while idle), or NDJSON lines in grpc-gateway's {"result": ...} /
{"error": ...} envelope when asked with Accept: application/x-ndjson. An EventSource that reconnects sends
Last-Event-ID, which becomes the cursor, so nothing is lost or repeated."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import json_format, message

from agent_runtime.rest.errors import RequestError, call_error_response, call_status, status_json
from agent_runtime.rest.json_schemas import Schema, Schemas
from agent_runtime.rest.routes import Route

NDJSON = "application/x-ndjson"
SSE = "text/event-stream"
LIST_CHANGE = "session:list:change"  # the event of a session list's stream
UNNAMED = "session:event"  # a session event with no payload
# The seed's Socket.IO event names, and names in its style for what it did not have.
EVENT_NAMES = {
    "block_start": "session:block:start",
    "block_delta": "session:block:delta",
    "block_update": "session:block:update",
    "block_complete": "session:block:complete",
    "metadata_update": "session:metadata:update",
    "options_update": "session:options:update",
    "status": "session:status",
    "file_created": "session:file:created",
    "file_modified": "session:file:modified",
    "file_deleted": "session:file:deleted",
    "subagent_discovered": "session:subagent:discovered",
    "subagent_completed": "session:subagent:completed",
    "message_accepted": "session:message:accepted",
    "turn_started": "session:turn:started",
    "turn_completed": "session:turn:completed",
    "approval_requested": "session:approval:requested",
    "approval_resolved": "session:approval:resolved",
    "client_tool_call": "session:tool:call",
    "client_tool_result": "session:tool:result",
    "error": "error",
}


def defaults(route: Route, request: web.Request) -> dict[str, Any]:
    """An event stream follows unless told not to, and resumes after Last-Event-ID."""
    fields = route.method.input_type.fields_by_name
    found: dict[str, Any] = {"follow": True} if "follow" in fields else {}
    last_event_id = request.headers.get("Last-Event-ID")
    if last_event_id is not None and "after_sequence" in fields:
        if not re.fullmatch("[0-9]+", last_event_id):  # isdigit() passes "²", which int() refuses
            raise RequestError(
                "INVALID_LAST_EVENT_ID", f"Last-Event-ID must be a sequence number, not {last_event_id!r}"
            )
        found["after_sequence"] = int(last_event_id)
    return found


OPENING = b": stream open\n\n"


def _sse(item: message.Message) -> bytes:
    kind = item.WhichOneof("kind")
    if kind == "heartbeat":
        return b": keep-alive\n\n"
    payload = getattr(item, kind)
    data = json.dumps(json_format.MessageToDict(payload), separators=(",", ":"))
    if kind == "event":
        name = EVENT_NAMES.get(payload.WhichOneof("payload") or "", UNNAMED)
        return f"id: {payload.sequence}\nevent: {name}\ndata: {data}\n\n".encode()
    return f"event: {LIST_CHANGE}\ndata: {data}\n\n".encode()


def _ndjson(item: message.Message) -> bytes:
    return json.dumps({"result": json_format.MessageToDict(item)}, separators=(",", ":")).encode() + b"\n"


async def respond(request: web.Request, call: grpc.aio.UnaryStreamCall[Any, Any]) -> web.StreamResponse:
    await call.initial_metadata()  # a call refused at once (no key, no such session) is over by now
    if call.done() and await call.code() != grpc.StatusCode.OK:
        return await call_error_response(call)
    ndjson = NDJSON in request.headers.get("Accept", "")
    encode = _ndjson if ndjson else _sse
    response = web.StreamResponse(headers={"Content-Type": NDJSON if ndjson else SSE, "Cache-Control": "no-cache"})
    await response.prepare(request)
    if not ndjson:  # bytes at once, so a browser or a buffering proxy opens the stream before any event
        await response.write(OPENING)
    try:
        async for item in call:
            await response.write(encode(item))
    except grpc.aio.AioRpcError:
        status = json.dumps(status_json(await call_status(call)))
        ending = f'{{"error":{status}}}\n' if ndjson else f"event: error\ndata: {status}\n\n"
        with contextlib.suppress(ConnectionError):
            await response.write(ending.encode())
    except ConnectionError:  # the client went away
        call.cancel()
        return response
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


def _json_text(schema: Schema) -> Schema:
    return {"type": "string", "contentMediaType": "application/json", "contentSchema": schema}


def item_schemas(route: Route, schemas: Schemas, status: Schema) -> dict[str, Schema]:
    """What a stream's answer holds, as OpenAPI 3.2 `itemSchema`s: each server-sent event (heartbeats are
    comments, not events), and each NDJSON line. A failure mid-stream is a last `error` event or line."""
    output = route.method.output_type
    events: list[Schema] = [{"properties": {"event": {"const": "error"}, "data": _json_text(status)}}]
    for field in output.oneofs_by_name["kind"].fields:
        data = _json_text(schemas.single(field))
        if field.name == "event":
            names = sorted({*EVENT_NAMES.values(), UNNAMED})
            id_ = {"type": "string", "pattern": "^[0-9]+$"}
            events.append({"properties": {"id": id_, "event": {"enum": names}, "data": data}, "required": ["id"]})
        elif field.name != "heartbeat":
            events.append({"properties": {"event": {"const": LIST_CHANGE}, "data": data}})
    sse = {
        "type": "object",
        "properties": {"event": {"type": "string"}, "id": {"type": "string"}, "data": {"type": "string"}},
        "required": ["data", "event"],
        "anyOf": events,
    }
    lines = [
        {"type": "object", "properties": {key: schema}, "required": [key], "additionalProperties": False}
        for key, schema in (("result", schemas.ref(output)), ("error", status))
    ]
    return {SSE: {"itemSchema": sse}, NDJSON: {"itemSchema": {"oneOf": lines}}}
