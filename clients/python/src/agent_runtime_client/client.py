"""AgentRuntimeClient: the runtime's calls as typed coroutines, each carrying the API key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Mapping, Sequence
from typing import Any, Self, TypeVar

from agent_runtime_client import v1
from agent_runtime_client._gen.google.protobuf import Struct, Value
from agent_runtime_client.channel import open_channel
from agent_runtime_client.errors import raised_as_agent_runtime_errors
from agent_runtime_client.event_stream import Reconnect, resumable_events

T = TypeVar("T")


class AgentRuntimeClient:
    """A connection to one runtime. Make it inside a running event loop (grpclib binds its channel to it) and
    close it when done, or use it with `async with`. Every failed call raises AgentRuntimeError.

        async with AgentRuntimeClient("127.0.0.1:50051", api_key) as client:
            session = await client.create_session("default", "anthropic")
    """

    def __init__(
        self, address: str, api_key: str, *, timeout: float | None = 30.0, reconnect: Reconnect | None = None
    ) -> None:
        """`timeout` (seconds) limits each unary call, never an event stream; `reconnect` says how a broken
        event stream is opened again."""
        asyncio.get_running_loop()  # without a running loop grpclib would bind the channel to the wrong one
        self._channel = open_channel(address)
        # Public for the calls this class does not wrap; the key goes with each of them (errors are grpclib's).
        self.stub = v1.AgentRuntimeStub(self._channel, metadata={"authorization": f"Bearer {api_key}"})
        self._timeout = timeout
        self._reconnect = reconnect or Reconnect()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    async def _unary(self, call: Awaitable[T]) -> T:
        with raised_as_agent_runtime_errors():
            return await call

    async def create_session(
        self,
        agent_profile_ref: str,
        architecture: str,
        *,
        name: str = "",
        session_options: v1.SessionOptions | None = None,
        workspace_files: Sequence[v1.WorkspaceFile] = (),
        metadata: Mapping[str, Any] | None = None,
        request_id: str = "",
    ) -> v1.Session:
        """A new session of an agent profile ("default") on an architecture ("claude-agent-sdk", "gemini-cli",
        "anthropic"). The same `request_id` (a UUID) again returns the same session."""
        request = v1.CreateSessionRequest(
            agent_profile_ref=agent_profile_ref,
            architecture=architecture,
            name=name,
            session_options=session_options,
            default_workspace_files=list(workspace_files),
            metadata=Struct.from_dict(dict(metadata)) if metadata is not None else None,
            request_id=request_id,
        )
        return await self._unary(self.stub.create_session(request, timeout=self._timeout))

    async def get_session(self, session_id: str, *, view: v1.SessionView = v1.SessionView.UNSPECIFIED) -> v1.Session:
        """The session; FULL view (blocks, workspace files) unless `view` says otherwise."""
        request = v1.GetSessionRequest(session_id=session_id, view=view)
        return await self._unary(self.stub.get_session(request, timeout=self._timeout))

    async def list_sessions(self, *, page_size: int = 0, page_token: str = "") -> v1.ListSessionsResponse:
        """One page of sessions, newest first; pass its `next_page_token` back for the next page."""
        request = v1.ListSessionsRequest(page_size=page_size, page_token=page_token)
        return await self._unary(self.stub.list_sessions(request, timeout=self._timeout))

    async def delete_session(self, session_id: str, *, purge: bool = False) -> v1.DeleteSessionResponse:
        """Stops the session's sandbox and unloads it; with `purge`, also deletes everything stored about it."""
        request = v1.DeleteSessionRequest(session_id=session_id, purge=purge)
        return await self._unary(self.stub.delete_session(request, timeout=self._timeout))

    async def send_message(
        self,
        session_id: str,
        content: str,
        *,
        request_id: str = "",
        if_busy: v1.BusyPolicy = v1.BusyPolicy.UNSPECIFIED,
    ) -> v1.SendMessageResponse:
        """Starts (or queues) a turn and returns at once; what the agent does arrives as events."""
        request = v1.SendMessageRequest(session_id=session_id, content=content, request_id=request_id, if_busy=if_busy)
        return await self._unary(self.stub.send_message(request, timeout=self._timeout))

    async def respond_to_approval(
        self,
        session_id: str,
        approval_id: str,
        *,
        allow: bool,
        message: str = "",
        updated_input: dict[str, Any] | None = None,
        remember: bool = False,
        answers: dict[str, str] | None = None,
        responder: str = "",
    ) -> v1.ApprovalResolved:
        """Answers an approval the session's turn waits for (an `approval_requested` event): the call runs
        (with `updated_input` instead of the agent's, if given) or is refused, `message` told to the agent."""
        request = v1.RespondToApprovalRequest(
            session_id=session_id,
            approval_id=approval_id,
            decision=v1.ApprovalDecision.ALLOW if allow else v1.ApprovalDecision.DENY,
            message=message,
            updated_input=Struct.from_dict(updated_input) if updated_input is not None else None,
            remember=remember,
            answers=answers or {},
            responder=responder,
        )
        response = await self._unary(self.stub.respond_to_approval(request, timeout=self._timeout))
        assert response.resolution is not None, "the runtime always says how the approval was resolved"
        return response.resolution

    async def submit_tool_result(
        self, session_id: str, call_id: str, output: Any, *, is_error: bool = False, responder: str = ""
    ) -> v1.ClientToolResult:
        """The result of a client tool call the session's turn waits for (a `client_tool_call` event): a string
        or any JSON value."""
        request = v1.SubmitToolResultRequest(
            session_id=session_id,
            call_id=call_id,
            output=Value.from_dict(output),
            is_error=is_error,
            responder=responder,
        )
        response = await self._unary(self.stub.submit_tool_result(request, timeout=self._timeout))
        assert response.result is not None, "the runtime always returns the result it took"
        return response.result

    async def list_profiles(self) -> list[v1.AgentProfileSummary]:
        """The agent profiles sessions can be created from: id, name, description."""
        response = await self._unary(
            self.stub.list_agent_profiles(v1.ListAgentProfilesRequest(), timeout=self._timeout)
        )
        return response.profiles

    def stream_events(
        self, session_id: str, *, after_sequence: int = 0, follow: bool = True
    ) -> AsyncGenerator[v1.SessionEvent, None]:
        """The session's events after `after_sequence`, each once and in order, heartbeats left out: the stored
        ones, then with `follow` live ones as they happen. A broken stream is opened again after the last event
        yielded. Close it when done early (`async with contextlib.aclosing(...)`) so the call ends at once."""
        return resumable_events(self.stub.stream_session_events, session_id, after_sequence, follow, self._reconnect)
