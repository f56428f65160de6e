"""What a session's running turn waits for from its caller: answers to approvals, results of client tool
calls. Each is stored as an event before anyone can answer it (so a stream that connects later, on any
replica, sees it), answered once (the first answer wins, and is stored before it counts), and closed
unanswered when it times out or its turn ends; a late or second answer is told so and changes nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import grpc
from google.protobuf import struct_pb2, timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import events_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.errors import ApiError
from agent_runtime.timestamps import now

Answer = TypeVar("Answer", events_pb2.ApprovalResolved, events_pb2.ClientToolResult)
DENY = events_pb2.APPROVAL_DECISION_DENY


@dataclass
class _Waiting(Generic[Answer]):
    answered: asyncio.Future[Answer]
    closed: bool = False


@dataclass
class _Kind(Generic[Answer]):
    """Approvals, or client tool calls: what one is called, and how it is closed unanswered."""

    noun: str  # "approval", "tool call"
    reason: str  # stem of the error reasons: APPROVAL, TOOL_CALL
    unanswered: Callable[[str, str, str], Answer]  # (id, answered_by, message) -> the closing answer
    waiting: dict[str, _Waiting[Answer]] = field(default_factory=dict)
    ended: dict[str, Answer] = field(default_factory=dict)


def _denied(approval_id: str, answered_by: str, message: str) -> events_pb2.ApprovalResolved:
    return events_pb2.ApprovalResolved(approval_id=approval_id, decision=DENY, answered_by=answered_by, message=message)


def _failed(call_id: str, answered_by: str, message: str) -> events_pb2.ClientToolResult:
    return events_pb2.ClientToolResult(
        call_id=call_id, output=struct_pb2.Value(string_value=message), is_error=True, answered_by=answered_by
    )


def answered_event(answer: events_pb2.ApprovalResolved | events_pb2.ClientToolResult) -> events_pb2.SessionEvent:
    if isinstance(answer, events_pb2.ApprovalResolved):
        return events_pb2.SessionEvent(approval_resolved=answer)
    return events_pb2.SessionEvent(client_tool_result=answer)


class AwaitedInput:
    def __init__(
        self,
        emitter: BlockEmitter,
        flush: Callable[[], Awaitable[None]],
        timeout_seconds: float,
        on_change: Callable[[], None],
    ) -> None:
        """`flush` returns once what was emitted is stored; `timeout_seconds`: how long a request waits (0: as
        long as its turn); `on_change` is called whenever what the session waits for changes."""
        self._emitter = emitter
        self._flush = flush
        self._timeout = timeout_seconds
        self._on_change = on_change
        self._approvals: _Kind[events_pb2.ApprovalResolved] = _Kind("approval", "APPROVAL", _denied)
        self._calls: _Kind[events_pb2.ClientToolResult] = _Kind("tool call", "TOOL_CALL", _failed)
        # The requests made here, by their call's tool_use_id, for answers that name the call instead.
        self._by_tool_use: dict[str, str] = {}

    def request_for(self, tool_use_id: str) -> str:
        """The approval or client tool call made here for the call with this tool_use_id; empty if none."""
        return self._by_tool_use.get(tool_use_id, "")

    def _remember_call(self, tool_use_id: str, request_id: str) -> None:
        if tool_use_id:  # a request without one is answered by its own id only
            self._by_tool_use[tool_use_id] = request_id

    def knows(self, request_id: str) -> bool:
        """Whether the request was made while this session was loaded here (waiting or ended)."""
        return any(request_id in kind.waiting or request_id in kind.ended for kind in (self._approvals, self._calls))

    @property
    def approvals(self) -> list[str]:
        return list(self._approvals.waiting)

    @property
    def tool_calls(self) -> list[str]:
        return list(self._calls.waiting)

    def _expiry(self) -> timestamp_pb2.Timestamp | None:
        if not self._timeout:
            return None
        expires = timestamp_pb2.Timestamp()
        expires.FromNanoseconds(now().ToNanoseconds() + int(self._timeout * 1e9))
        return expires

    async def approval(self, request: events_pb2.ApprovalRequested) -> events_pb2.ApprovalResolved:
        """Asks for an approval (its id and expiry are set here) and returns how it was resolved."""
        request.approval_id = f"approval-{uuid.uuid4()}"
        self._remember_call(request.tool_use_id, request.approval_id)
        if (expires := self._expiry()) is not None:
            request.expires_at.CopyFrom(expires)
        return await self._wait(
            self._approvals, request.approval_id, events_pb2.SessionEvent(approval_requested=request)
        )

    async def tool_call(self, request: events_pb2.ClientToolCall) -> events_pb2.ClientToolResult:
        """Asks the caller to run a tool (its id and expiry are set here) and returns the result."""
        request.call_id = f"call-{uuid.uuid4()}"
        self._remember_call(request.tool_use_id, request.call_id)
        if (expires := self._expiry()) is not None:
            request.expires_at.CopyFrom(expires)
        asked = events_pb2.SessionEvent(client_tool_call=request)
        return await self._wait(self._calls, request.call_id, asked)

    async def _wait(self, kind: _Kind[Answer], request_id: str, asked: events_pb2.SessionEvent) -> Answer:
        waiting: _Waiting[Answer] = _Waiting(asyncio.get_running_loop().create_future())
        kind.waiting[request_id] = waiting
        try:
            self._emitter.emit(asked)
            await self._flush()  # stored before it can be answered, or waited for
            self._on_change()
            if self._timeout:
                return await asyncio.wait_for(asyncio.shield(waiting.answered), self._timeout)
            return await waiting.answered
        except TimeoutError:
            return await self._close(kind, request_id, "timeout", f"no answer came within {self._timeout:g}s")
        except asyncio.CancelledError:  # the turn was interrupted (or its session unloaded): closed with it
            self._close_now(kind, request_id, "interrupt", "the turn was interrupted before an answer came")
            raise
        finally:
            kind.waiting.pop(request_id, None)
            self._on_change()

    async def _close(self, kind: _Kind[Answer], request_id: str, answered_by: str, message: str) -> Answer:
        """Closes a request unanswered, unless an answer got there first (then that answer)."""
        waiting = kind.waiting[request_id]
        if waiting.closed:
            return await waiting.answered
        self._close_now(kind, request_id, answered_by, message)
        await self._flush()
        return await waiting.answered

    def _close_now(self, kind: _Kind[Answer], request_id: str, answered_by: str, message: str) -> None:
        waiting = kind.waiting[request_id]
        if waiting.closed:
            return
        answer = kind.unanswered(request_id, answered_by, message)
        waiting.closed = True
        kind.ended[request_id] = answer
        self._emitter.emit(answered_event(answer))
        if not waiting.answered.done():
            waiting.answered.set_result(answer)

    async def respond(self, answer: events_pb2.ApprovalResolved) -> events_pb2.ApprovalResolved:
        return await self._answer(self._approvals, answer.approval_id, answer)

    async def submit(self, answer: events_pb2.ClientToolResult) -> events_pb2.ClientToolResult:
        return await self._answer(self._calls, answer.call_id, answer)

    async def _answer(self, kind: _Kind[Answer], request_id: str, answer: Answer) -> Answer:
        """The caller's answer, stored, then handed to the waiting turn; the first answer wins."""
        waiting = kind.waiting.get(request_id)
        if waiting is None or waiting.closed:
            raise closed_or_unknown(kind.noun, kind.reason, request_id, kind.ended.get(request_id) is not None)
        waiting.closed = True  # from here on a second answer is refused, whatever storage does
        kind.ended[request_id] = answer
        self._emitter.emit(answered_event(answer))
        try:
            await self._flush()
        except ApiError:  # dropped unstored (the session moved to another replica): as if it never came
            waiting.closed = False
            del kind.ended[request_id]
            raise
        if not waiting.answered.done():
            waiting.answered.set_result(answer)
        return answer


def closed_or_unknown(noun: str, reason: str, request_id: str, known: bool) -> ApiError:
    if known:
        return ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"{reason}_CLOSED",
            f"{noun} {request_id!r} was answered already, expired, or its turn ended; nothing changed",
            metadata={"id": request_id},
        )
    return ApiError(
        grpc.StatusCode.NOT_FOUND,
        f"{reason}_NOT_FOUND",
        f"no {noun} {request_id!r} waits in this session",
        metadata={"id": request_id},
    )
