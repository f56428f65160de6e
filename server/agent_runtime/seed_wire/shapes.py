"""The seed's JSON shapes (its types.ts, exactly: camelCase names, times in milliseconds, block times as
ISO strings), made from the runtime's messages."""

from __future__ import annotations

import base64
from typing import Any

from google.protobuf import json_format, timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2, session_pb2

Json = dict[str, Any]
TOOL_STATUS = {
    blocks_pb2.TOOL_STATUS_PENDING: "pending",
    blocks_pb2.TOOL_STATUS_RUNNING: "running",
    blocks_pb2.TOOL_STATUS_SUCCESS: "success",
    blocks_pb2.TOOL_STATUS_ERROR: "error",
    # The seed had no one waiting: a call that waits for an answer has not run yet.
    blocks_pb2.TOOL_STATUS_WAITING_FOR_APPROVAL: "pending",
    blocks_pb2.TOOL_STATUS_WAITING_FOR_RESULT: "pending",
}
SANDBOX_STATUS = {
    session_pb2.SANDBOX_STATUS_STARTING: "starting",
    session_pb2.SANDBOX_STATUS_READY: "ready",
    session_pb2.SANDBOX_STATUS_UNHEALTHY: "unhealthy",
    session_pb2.SANDBOX_STATUS_TERMINATED: "terminated",
}


def millis(stamp: timestamp_pb2.Timestamp) -> int | None:
    return stamp.ToMilliseconds() if stamp.seconds or stamp.nanos else None


def _optional(**fields: Any) -> Json:
    """The seed leaves an optional field out rather than empty."""
    return {key: value for key, value in fields.items() if value not in (None, "")}


def _duration(shape: Json, found: Any) -> Json:
    return shape | ({"durationMs": found.duration.ToMilliseconds()} if found.HasField("duration") else {})


def _user_content(message: blocks_pb2.UserMessageBlock) -> str | list[Json]:
    if not message.images:
        return message.content
    parts: list[Json] = [{"type": "text", "text": message.content}] if message.content else []
    for image in message.images:
        if image.HasField("url"):
            source = {"type": "url", "data": image.url}
        else:
            source = {"type": "base64", "data": base64.b64encode(image.data).decode()}
        parts.append({"type": "image", "source": source | _optional(mediaType=image.media_type)})
    return parts


def _kind_fields(found: blocks_pb2.ConversationBlock) -> Json:
    """The fields of the block's own kind, with its `type`."""
    kind = found.WhichOneof("kind")
    if kind == "user_message":
        return {"type": "user_message", "content": _user_content(found.user_message)}
    if kind == "assistant_text":
        text = found.assistant_text
        return {"type": "assistant_text", "content": text.content} | _optional(model=text.model)
    if kind == "tool_use":
        tool = found.tool_use
        return {
            "type": "tool_use",
            "toolName": tool.tool_name,
            "toolUseId": tool.tool_use_id,
            "input": json_format.MessageToDict(tool.input),
            "status": TOOL_STATUS.get(tool.status, "pending"),
        } | _optional(displayName=tool.display_name, description=tool.description)
    if kind == "tool_result":
        result = found.tool_result
        output = json_format.MessageToDict(result.output) if result.HasField("output") else None
        shape: Json = {
            "type": "tool_result",
            "toolUseId": result.tool_use_id,
            "output": output,
            "isError": result.is_error,
        }
        return _duration(shape, result)
    if kind == "thinking":
        return {"type": "thinking", "content": found.thinking.content} | _optional(summary=found.thinking.summary)
    if kind == "system":
        system = found.system
        metadata = json_format.MessageToDict(system.metadata) if system.HasField("metadata") else None
        return {"type": "system", "subtype": system.subtype, "message": system.message} | _optional(metadata=metadata)
    if kind == "subagent":
        agent = found.subagent
        described: Json = {
            "type": "subagent",
            "subagentId": agent.subagent_id,
            "input": agent.input,
            "status": TOOL_STATUS.get(agent.status, "pending"),
        } | _optional(name=agent.name, output=agent.output, toolUseId=agent.tool_use_id)
        return _duration(described, agent)
    if kind == "error":
        return {"type": "error", "message": found.error.message} | _optional(code=found.error.code)
    return {"type": "system", "subtype": "status", "message": ""}  # a kind this build does not know


def block(found: blocks_pb2.ConversationBlock) -> Json:
    return {"id": found.id, "timestamp": found.timestamp.ToJsonString(), **_kind_fields(found)}


def runtime(state: session_pb2.RuntimeState) -> Json:
    sandbox = None
    if state.HasField("sandbox"):
        found = state.sandbox
        sandbox = {
            "status": SANDBOX_STATUS.get(found.status, "starting"),
            "restartCount": found.restart_count,
            "lastHealthCheck": millis(found.last_health_check) or 0,
        } | _optional(sandboxId=found.sandbox_id, statusMessage=found.status_message)
    return {"isLoaded": state.loaded, "sandbox": sandbox}


def session_options(options: session_pb2.SessionOptions) -> Json:
    return {"model": options.model} if options.model else {}


def list_item(session: session_pb2.Session) -> Json:
    """A SessionListItem: the stored session with its runtime state."""
    item: Json = {
        "sessionId": session.session_id,
        "type": session.architecture,
        "agentProfileReference": session.agent_profile_ref,
        "sessionOptions": session_options(session.session_options),
        "runtime": runtime(session.runtime),
    }
    metadata = json_format.MessageToDict(session.metadata) if session.HasField("metadata") else None
    return item | _optional(
        name=session.name,
        lastActivity=millis(session.last_activity),
        createdAt=millis(session.created_at),
        metadata=metadata,
    )


def usage(metadata: events_pb2.MetadataUpdate) -> Json:
    counts = metadata.usage
    shape: Json = {
        "inputTokens": counts.input_tokens,
        "outputTokens": counts.output_tokens,
        "cacheReadTokens": counts.cache_read_tokens,
        "cacheWriteTokens": counts.cache_write_tokens,
        "thinkingTokens": counts.thinking_tokens,
        "totalTokens": counts.total_tokens,
    }
    return {"usage": shape} | _optional(costUSD=metadata.cost_usd or None, model=metadata.model)
