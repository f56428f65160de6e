"""/v1/sessions/{id}/events: send (user.message, user.interrupt, user.tool_confirmation,
user.custom_tool_result), list (pages oldest or newest first, a `types` filter)
and stream (server-sent events from now on, as the SDKs read them: `event: <type>` then `data: <json>`,
`event: ping` while quiet). The SDKs do not resume a stream; they list what they missed, by id."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import grpc
from aiohttp import web
from google.protobuf import struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2, session_pb2
from agent_runtime.event_head import head_sequence
from agent_runtime.http_surface import caller
from agent_runtime.managed_agents.bodies import EVENTS_SEND
from agent_runtime.managed_agents.errors import invalid, rpc_error_response
from agent_runtime.managed_agents.event_mapping import Event, EventMapper, user_message_id
from agent_runtime.managed_agents.requests import json_body, limit, listed

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

# A cursor past any session's last event: the runtime's refusal of it says where the head is.
SENDABLE = ("user.message", "user.interrupt", "user.tool_confirmation", "user.custom_tool_result")
DECISIONS = {"allow": events_pb2.APPROVAL_DECISION_ALLOW, "deny": events_pb2.APPROVAL_DECISION_DENY}


class EventRoutes:
    def __init__(self, stub: AgentRuntimeAsyncStub) -> None:
        self._stub = stub

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_post("/sessions/{session_id}/events", self.send)
        router.add_get("/sessions/{session_id}/events", self.list)
        router.add_get("/sessions/{session_id}/events/stream", self.stream)

    async def send(self, request: web.Request) -> web.Response:
        events = EVENTS_SEND.checked(await json_body(request))["events"]
        checked = [_checked(event) for event in events]  # all are checked before any is sent
        return web.json_response({"data": [await self._send(request, event) for event in checked]})

    async def _send(self, request: web.Request, event: dict[str, Any]) -> Event:
        session_id, metadata, kind = request.match_info["session_id"], caller(request), event["type"]
        if kind == "user.message":
            sent = await self._stub.SendMessage(
                api.SendMessageRequest(session_id=session_id, content=_message_text(event)), metadata=metadata
            )
            return _echoed(event, user_message_id(sent.turn_id))
        if kind == "user.interrupt":
            interrupted = await self._stub.InterruptSession(
                api.InterruptSessionRequest(session_id=session_id), metadata=metadata
            )
            return _echoed(event, f"sevt_interrupt_{interrupted.turn_id}")
        if kind == "user.tool_confirmation":
            answered = await self._stub.RespondToApproval(
                api.RespondToApprovalRequest(
                    session_id=session_id,
                    tool_use_id=event["tool_use_id"],
                    decision=DECISIONS[event["result"]],
                    message=event.get("deny_message") or "",
                ),
                metadata=metadata,
            )
            return _echoed(event, f"sevt_{answered.resolution.approval_id}")
        output = struct_pb2.Value(string_value=_blocks_text(event.get("content") or [], "content"))
        submitted = await self._stub.SubmitToolResult(
            api.SubmitToolResultRequest(
                session_id=session_id,
                tool_use_id=event["custom_tool_use_id"],
                output=output,
                is_error=bool(event.get("is_error")),
            ),
            metadata=metadata,
        )
        return _echoed(event, f"sevt_{submitted.result.call_id}")

    async def _mapper(self, request: web.Request, text_deltas: bool = False) -> EventMapper:
        """The session's mapper: it knows the session's client tools (the profile's and its own)."""
        metadata = caller(request)
        session = await self._stub.GetSession(
            api.GetSessionRequest(session_id=request.match_info["session_id"], view=session_pb2.SESSION_VIEW_BASIC),
            metadata=metadata,
        )
        profile = await self._stub.GetAgentProfile(
            api.GetAgentProfileRequest(agent_profile_id=session.agent_profile_ref), metadata=metadata
        )
        tools = [*profile.client_tools, *session.session_options.client_tools]
        return EventMapper((tool.name for tool in tools), text_deltas)

    async def list(self, request: web.Request) -> web.Response:
        order = request.query.get("order", "asc")
        if order not in ("asc", "desc"):
            raise invalid("invalid_order", 'order is "asc" (oldest first, the default) or "desc"')
        page, wanted = limit(request), set(listed(request, "types"))
        cursor = request.query.get("page")
        mapper = await self._mapper(request)
        if order == "desc":
            return await self._newest_first(request, mapper, page, wanted, None if cursor is None else _cursor(cursor))
        found: list[Event] = []
        after = _cursor(cursor or "0")
        async with contextlib.aclosing(_stored(self._stub, request, mapper, after, follow=False)) as stored:
            async for sequence, events in stored:
                found.extend(_of_types(events, wanted))
                if len(found) >= page:
                    return web.json_response({"data": found, "next_page": str(sequence)})
        return web.json_response({"data": found, "next_page": None})

    async def _newest_first(
        self, request: web.Request, mapper: EventMapper, page: int, wanted: set[str], before: int | None
    ) -> web.Response:
        """A page of the events before the cursor, newest first. The log is read forward from its start (it
        has no other way), so a page costs the session's length: listing newest first is rare."""
        groups: list[tuple[int, list[Event]]] = []  # each of our events with its events, oldest first
        async with contextlib.aclosing(_stored(self._stub, request, mapper, 0, follow=False)) as stored:
            async for sequence, events in stored:
                if before is not None and sequence >= before:
                    break
                kept = _of_types(events, wanted)
                if kept:
                    groups.append((sequence, kept))
        found: list[Event] = []
        oldest = 0  # the sequence of the oldest event on the page: the next page is what comes before it
        while groups and len(found) < page:
            oldest, events = groups.pop()
            found.extend(reversed(events))
        return web.json_response({"data": found, "next_page": str(oldest) if groups else None})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """From the head, or after the Last-Event-ID a reconnecting client sends: each of our events' last
        message carries its sequence as the SSE `id:`, so a resumed stream misses and repeats nothing."""
        # An unknown session is refused here, before the answer.
        head = await head_sequence(self._stub, request.match_info["session_id"], caller(request))
        after = _resumed_after(request, head)
        deltas = set(listed(request, "event_deltas"))
        if deltas - {"agent.message", "agent.thinking"}:
            raise invalid("invalid_event_deltas", "event_deltas may name agent.message and agent.thinking")
        mapper = await self._mapper(request, text_deltas="agent.message" in deltas)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            async with contextlib.aclosing(_stored(self._stub, request, mapper, after, follow=True)) as live:
                async for sequence, events in live:
                    if events is None:  # a heartbeat: no id, its head may be ahead of what this stream sent
                        await response.write(b"event: ping\ndata: {}\n\n")
                        continue
                    for number, event in enumerate(events, start=1):
                        resume = f"id: {sequence}\n" if number == len(events) else ""
                        await response.write(f"{resume}event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
        except grpc.aio.AioRpcError as error:  # the session was deleted, or the runtime is stopping
            refused = json.loads(rpc_error_response(error).text or "{}")
            await response.write(f"event: error\ndata: {json.dumps(refused)}\n\n".encode())
        return response


def _echoed(sent: dict[str, Any], event_id: str) -> Event:
    """A sent event as the answer to sending it: with its id, not yet processed."""
    return {**sent, "id": event_id, "processed_at": None}


def _of_types(events: list[Event] | None, wanted: set[str]) -> list[Event]:
    """The events of the wanted types (all of them when none is named)."""
    return [event for event in events or () if not wanted or event["type"] in wanted]


def _checked(event: Any) -> dict[str, Any]:
    """A sendable event, its fields checked; anything else is refused."""
    kind = event.get("type") if isinstance(event, dict) else None
    if kind not in SENDABLE:
        raise invalid("unsupported_event", f"agent-runtime accepts {', '.join(SENDABLE)} here, not {kind!r}")
    assert isinstance(event, dict)
    if kind == "user.message":
        _message_text(event)
    elif kind == "user.tool_confirmation":
        _required_text(event, "tool_use_id")
        if not isinstance(event.get("result"), str) or event["result"] not in DECISIONS:
            raise invalid("invalid_result", 'a user.tool_confirmation\'s result is "allow" or "deny"')
        if not isinstance(event.get("deny_message") or "", str):
            raise invalid("invalid_field", "deny_message must be a string")
    elif kind == "user.custom_tool_result":
        _required_text(event, "custom_tool_use_id")
        _blocks_text(event.get("content") or [], "content")
        if not isinstance(event.get("is_error", False), bool):
            raise invalid("invalid_field", "is_error must be true or false")
    return event


def _required_text(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise invalid("invalid_field", f"a {event['type']} needs {name}")
    return value


def _message_text(event: dict[str, Any]) -> str:
    content = event.get("content")
    if not isinstance(content, list) or not content:
        raise invalid("invalid_content", "a user.message needs content: a list of text blocks")
    return _blocks_text(content, "content")


def _blocks_text(content: Any, name: str) -> str:
    """Text blocks' text, joined by blank lines; other blocks are refused."""
    if not isinstance(content, list):
        raise invalid("invalid_content", f"{name} must be a list of text blocks")
    texts = []
    for block in content:
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise invalid("unsupported_content", 'agent-runtime takes text blocks ({"type": "text", "text": ...})')
        texts.append(block["text"])
    return "\n\n".join(texts)


def _resumed_after(request: web.Request, head: int) -> int:
    """Where a stream starts: after the Last-Event-ID (a sequence this stream sent), else at the head."""
    last = request.headers.get("Last-Event-ID")
    if last is None:
        return head
    if not last.isascii() or not last.isdigit() or int(last) > head:
        raise invalid("invalid_last_event_id", f"Last-Event-ID must be a sequence this stream sent, not {last!r}")
    return int(last)


def _cursor(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise invalid("invalid_page", f"page must be a cursor from next_page, not {text!r}")
    return int(text)


async def _stored(
    stub: AgentRuntimeAsyncStub, request: web.Request, mapper: EventMapper, after: int, follow: bool
) -> AsyncGenerator[tuple[int, list[Event] | None], None]:
    """(sequence, its Managed Agents events) for each of the session's events after `after`; with
    `follow`, (its head, None) for each heartbeat as well."""
    call = stub.StreamSessionEvents(
        api.StreamSessionEventsRequest(
            session_id=request.match_info["session_id"], after_sequence=after, follow=follow
        ),
        metadata=caller(request),
    )
    try:
        async for response in call:
            if response.HasField("event"):
                yield response.event.sequence, mapper.events(response.event)
            else:
                yield response.heartbeat.head_sequence, None
    finally:
        call.cancel()
