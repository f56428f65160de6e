"""The session events a joined socket gets, as the seed's Socket.IO events: its names and payloads, each
payload with the event's `sequence` beside (the seed had none; a client passes the last one it saw when it
joins again, and gets what it missed). Text deltas only: the seed's client appends every delta of a
conversation to one buffer, so thinking and tool-input deltas (which it never had) would garble it; their
blocks arrive complete. Events the seed did not have keep the REST stream's names and the runtime's JSON."""

from __future__ import annotations

from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.rest.event_stream import EVENT_NAMES
from agent_runtime.seed_wire import shapes
from agent_runtime.seed_wire.shapes import Json

# The payloads in the seed's own shapes; the rest are projected by their proto3 JSON.
SEED_SHAPED = {
    "block_start", "block_delta", "block_update", "block_complete", "metadata_update", "options_update",
    "status", "file_created", "file_modified", "file_deleted", "subagent_discovered", "subagent_completed", "error",
}  # fmt: skip


def _seed_payload(event: events_pb2.SessionEvent, kind: str) -> Json | None:
    conversation = {"conversationId": event.conversation_id or "main"}
    if kind == "block_start":
        return conversation | {"block": shapes.block(event.block_start.block)}
    if kind == "block_delta":
        delta = event.block_delta
        if delta.kind != events_pb2.DELTA_KIND_TEXT:
            return None
        return conversation | {"blockId": delta.block_id, "delta": delta.delta}
    if kind in ("block_update", "block_complete"):
        changed = getattr(event, kind)
        key = "updates" if kind == "block_update" else "block"
        return conversation | {"blockId": changed.block_id, key: shapes.block(changed.block)}
    if kind == "metadata_update":
        return conversation | {"metadata": shapes.usage(event.metadata_update)}
    if kind == "options_update":
        return {"options": shapes.session_options(event.options_update.session_options)}
    if kind == "status":
        return {"runtime": shapes.runtime(event.status.runtime)}
    if kind in ("file_created", "file_modified"):
        return {"file": {"path": getattr(event, kind).file.path}}  # its content is added by who sends it
    if kind == "file_deleted":
        return {"path": event.file_deleted.path}
    if kind == "subagent_discovered":
        return {"subagent": {"id": event.subagent_discovered.subagent_id, "blocks": []}}
    if kind == "subagent_completed":
        failed = event.subagent_completed.status == blocks_pb2.TOOL_STATUS_ERROR
        return {"subagentId": event.subagent_completed.subagent_id, "status": "failed" if failed else "completed"}
    return {"message": event.error.message, "code": event.error.code}  # error


def socket_event(event: events_pb2.SessionEvent) -> tuple[str, Json] | None:
    """The event's name and payload on the seed's wire; None for what it leaves out."""
    kind = event.WhichOneof("payload")
    if kind is None:
        return None
    base: Json = {"sessionId": event.session_id, "sequence": event.sequence}
    if kind in SEED_SHAPED:
        payload = _seed_payload(event, kind)
        return None if payload is None else (EVENT_NAMES[kind], base | payload)
    own = json_format.MessageToDict(getattr(event, kind))
    return EVENT_NAMES[kind], base | {"conversationId": event.conversation_id or "main"} | own
