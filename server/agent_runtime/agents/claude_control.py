"""The runtime's side of Claude Code's SDK control protocol, for a turn whose calls the gate decides.

The CLI runs with `--permission-prompt-tool stdio`: it asks on stdout (`control_request`) and reads the
answers on stdin (`control_response`), as the Claude Agent SDK's `canUseTool` does.
- A PreToolUse hook, registered by the `initialize` request, sees every call first. A call the policy allows
  runs at once; any other goes on to the permission prompt, even one Claude Code would let through by itself
  (a Read in the workspace). The rules are not written into Claude Code's settings: it applies deny rules
  before allow rules, while the policy's first matching rule decides.
- The permission prompt (`can_use_tool`) is answered by the gate, which refuses the call or asks the caller;
  AskUserQuestion's prompt carries the agent's questions, and the user's answers go back in its input.
- The caller's tools are an SDK MCP server, CLIENT_TOOLS_SERVER, whose calls (`mcp_message`) the caller answers.
The message is sent once `initialize` is answered; if Claude Code refuses it, nothing runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import grpc

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.agents import client_tools_mcp
from agent_runtime.agents.answers_in_flight import AnswersInFlight
from agent_runtime.agents.claude_profile import CLIENT_TOOLS_SERVER
from agent_runtime.agents.claude_stream import ClaudeStream
from agent_runtime.agents.cli_process import StdinChannel
from agent_runtime.errors import ApiError
from agent_runtime.permissions.gate import ASK_USER_QUESTION, CallIds, TurnGate, answer_text

HOOK_ID = "gate"
CLIENT_TOOL_PREFIX = f"mcp__{CLIENT_TOOLS_SERVER}__"  # the model sees a client tool `lookup` as mcp__caller__lookup
INITIALIZE_ID = "initialize"


def _answers(asked: Mapping[str, Any], resolved: events_pb2.ApprovalResolved) -> dict[str, str]:
    """AskUserQuestion's answers, by question: the user's, or their message for every question they left out."""
    questions = [q.get("question") for q in asked.get("questions", []) if isinstance(q, Mapping)]
    left_out = {str(q): resolved.message for q in questions if q not in resolved.answers and resolved.message}
    return {**left_out, **resolved.answers}


def _hook(decision: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": decision}}


class ClaudeControl:
    """Feeds the CLI's output lines to the stream, and answers its control requests on the channel."""

    def __init__(self, stream: ClaudeStream, gate: TurnGate, channel: StdinChannel, message: Mapping[str, Any]) -> None:
        self._stream = stream
        self._gate = gate
        self._channel = channel
        self._message = message
        self._answering = AnswersInFlight()
        self.refused = ""  # why Claude Code refused the initialize request, if it did

    def start(self) -> None:
        """Asks the CLI to take the hook and the caller's tools; the message follows the answer."""
        request: dict[str, Any] = {"subtype": "initialize"}
        if not self._gate.allows_everything:
            request["hooks"] = {"PreToolUse": [{"matcher": None, "hookCallbackIds": [HOOK_ID]}]}
        if self._gate.has_client_tools:
            request["sdkMcpServers"] = [CLIENT_TOOLS_SERVER]
        self._channel.send({"type": "control_request", "request_id": INITIALIZE_ID, "request": request})

    def feed(self, line: dict[str, Any]) -> None:
        kind = line.get("type")
        if kind == "control_request" and isinstance(line.get("request"), dict):
            request_id = str(line.get("request_id", ""))
            self._answering.start(request_id, self._answer(request_id, line["request"]))
        elif kind == "control_cancel_request":
            self._answering.cancel(str(line.get("request_id", "")))
        elif kind == "control_response" and isinstance(line.get("response"), dict):
            self._initialized(line["response"])
        else:
            self._stream.feed(line)
            if kind == "result":  # the turn is over: the CLI exits once its stdin ends
                self._channel.close()

    def stop(self) -> None:
        self._answering.cancel_all()
        self._stream.stop()

    async def close(self) -> None:
        await self._answering.close()

    def raise_if_refused(self) -> None:
        if self.refused:
            raise ApiError(
                grpc.StatusCode.INTERNAL, "AGENT_FAILED", f"Claude Code refused the control protocol: {self.refused}"
            )

    def _initialized(self, response: dict[str, Any]) -> None:
        if response.get("request_id") != INITIALIZE_ID:
            return
        if response.get("subtype") == "success":
            self._channel.send(self._message)
        else:
            self.refused = str(response.get("error") or "no reason given")
            self._channel.close()

    async def _answer(self, request_id: str, request: dict[str, Any]) -> None:
        try:
            answer = {"subtype": "success", "request_id": request_id, "response": await self._respond(request)}
        except Exception as error:  # the CLI treats it as a refusal
            answer = {"subtype": "error", "request_id": request_id, "error": str(error) or type(error).__name__}
        self._channel.send({"type": "control_response", "response": answer})

    async def _respond(self, request: dict[str, Any]) -> dict[str, Any]:
        subtype = request.get("subtype")
        if subtype == "hook_callback":
            return self._pre_tool_use(request.get("input") or {})
        if subtype == "can_use_tool":
            return await self._can_use_tool(request)
        if subtype == "mcp_message" and request.get("server_name") == CLIENT_TOOLS_SERVER:
            message = request.get("message") or {}
            return {
                "mcp_response": await client_tools_mcp.answer(message, self._gate, CLIENT_TOOLS_SERVER, self._locate)
            }
        raise ValueError(f"the runtime does not answer {subtype!r} requests")

    def _pre_tool_use(self, called: dict[str, Any]) -> dict[str, Any]:
        name, tool_input = str(called.get("tool_name", "")), called.get("tool_input") or {}
        if name == ASK_USER_QUESTION:
            return {}  # it needs the user: Claude Code prompts for it
        if name.startswith(CLIENT_TOOL_PREFIX) or self._gate.allows(name, tool_input):
            return _hook("allow")
        return _hook("ask")

    async def _can_use_tool(self, request: dict[str, Any]) -> dict[str, Any]:
        name, tool_input = str(request.get("tool_name", "")), request.get("input") or {}
        tool_use_id = str(request.get("tool_use_id", ""))
        call = CallIds(self._stream.tool_block_id(tool_use_id), tool_use_id)
        waiting = lambda: self._stream.show_status(tool_use_id, blocks_pb2.TOOL_STATUS_WAITING_FOR_APPROVAL)  # noqa: E731
        if name.startswith(CLIENT_TOOL_PREFIX):
            return {"behavior": "allow", "updatedInput": tool_input}
        if name == ASK_USER_QUESTION:
            resolved = await self._gate.ask_user(call, tool_input, waiting)
            said, unanswered = answer_text(resolved)
            if unanswered:
                return {"behavior": "deny", "message": said}
            self._stream.show_status(tool_use_id, blocks_pb2.TOOL_STATUS_RUNNING)
            return {"behavior": "allow", "updatedInput": {**tool_input, "answers": _answers(tool_input, resolved)}}
        ruling = await self._gate.rule(call, name, tool_input, waiting)
        if not ruling.runs:
            return {"behavior": "deny", "message": ruling.message}
        self._stream.show_status(tool_use_id, blocks_pb2.TOOL_STATUS_RUNNING)
        return {"behavior": "allow", "updatedInput": dict(ruling.tool_input)}

    async def _locate(self, params: Mapping[str, Any]) -> tuple[CallIds, Callable[[], None]]:
        """A client tool's call, by the tool_use id Claude Code sends along."""
        tool_use_id = str((params.get("_meta") or {}).get("claudecode/toolUseId", ""))
        waiting = lambda: self._stream.show_status(tool_use_id, blocks_pb2.TOOL_STATUS_WAITING_FOR_RESULT)  # noqa: E731
        return CallIds(self._stream.tool_block_id(tool_use_id), tool_use_id), waiting
