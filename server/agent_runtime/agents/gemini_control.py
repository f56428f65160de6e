"""The runtime's side of the Gemini CLI's questions while it runs, for a turn whose calls the gate decides.

The CLI has no control protocol of its own in `-p` mode, so it runs under a small Node bridge
(gemini_bridge.mjs) that passes its stdout through and adds the questions two other bridge processes put on
a unix socket in the sandbox (never the network):
- a BeforeTool hook, which sees every call first. A call the policy allows goes on (the CLI runs in yolo
  mode); any other is refused, with the message the agent reads, or waits for the caller's approval, whose
  updated input replaces the call's. The CLI's own policy engine is not given the rules: in `-p` mode it
  refuses what it would ask about, and drops the reason of a refusal under ACP.
- the MCP server of the caller's client tools (CLIENT_TOOLS_SERVER), whose calls the caller answers.
The answers go back on the bridge's stdin, after the message itself. The CLI has no question tool, so there
is nothing like AskUserQuestion to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from agent_runtime._gen.agentruntime.v1 import blocks_pb2
from agent_runtime.agents import client_tools_mcp
from agent_runtime.agents.answers_in_flight import AnswersInFlight
from agent_runtime.agents.claude_profile import CLIENT_TOOLS_SERVER
from agent_runtime.agents.cli_process import StdinChannel
from agent_runtime.agents.gemini_stream import GeminiStream
from agent_runtime.permissions.gate import CallIds, TurnGate

BRIDGE_PATH = "/tmp/agent-runtime/gemini-bridge.mjs"
SOCKET_PATH = "/tmp/agent-runtime/gemini-bridge.sock"
CLIENT_TOOL_PREFIX = f"mcp_{CLIENT_TOOLS_SERVER}_"  # the model sees a client tool `lookup` as mcp_caller_lookup
# The hook and the MCP server wait as long as the gate does (its --input-timeout): the CLI would run a call
# whose hook it killed.
WAIT_MS = 2**31 - 1
INTERNAL_ERROR = -32603  # JSON-RPC's
# How long a question may wait for the CLI's own line about the call it is about (they come by two pipes).
LOCATE_SECONDS = 5.0


def bridged(argv: list[str]) -> list[str]:
    return ["node", BRIDGE_PATH, "run", SOCKET_PATH, "--", *argv]


def settings(gate: TurnGate) -> dict[str, Any]:
    """What the CLI's settings get for the turn: the hook, when the policy does not allow every call, and
    the client tools' server."""
    added: dict[str, Any] = {}
    if not gate.allows_everything:
        hook = {"name": "agent-runtime", "type": "command", "command": f"node {BRIDGE_PATH} hook {SOCKET_PATH}"}
        added["hooks"] = {"BeforeTool": [{"matcher": ".*", "hooks": [{**hook, "timeout": WAIT_MS}]}]}
    if gate.has_client_tools:
        server = {"command": "node", "args": [BRIDGE_PATH, "mcp", SOCKET_PATH], "timeout": WAIT_MS, "trust": True}
        added["mcpServers"] = {CLIENT_TOOLS_SERVER: server}
    return added


class GeminiControl:
    """Feeds the CLI's output lines to the stream, and answers the bridge's questions on the channel."""

    def __init__(self, stream: GeminiStream, gate: TurnGate, channel: StdinChannel, prompt: str) -> None:
        self._stream = stream
        self._gate = gate
        self._channel = channel
        self._prompt = prompt
        self._answering = AnswersInFlight()
        self._call_seen = asyncio.Event()  # set at each call the CLI announces

    def start(self) -> None:
        self._channel.send({"prompt": self._prompt})

    def feed(self, line: dict[str, Any]) -> None:
        kind = line.get("type")
        if kind == "agent_runtime_request":
            question_id = line.get("id")
            self._answering.start(
                str(question_id), self._answer(question_id, line.get("kind"), line.get("payload") or {})
            )
            return
        self._stream.feed(line)
        if kind == "tool_use":
            self._call_seen.set()
        elif kind == "result":
            self._channel.close()

    def stop(self) -> None:
        self._answering.cancel_all()
        self._stream.stop()

    async def close(self) -> None:
        await self._answering.close()

    async def _answer(self, request_id: Any, kind: Any, payload: dict[str, Any]) -> None:
        answer: dict[str, Any]
        try:
            if kind == "hook":
                answer = await self._before_tool(payload)
            else:
                answer = await client_tools_mcp.answer(
                    payload, self._gate, CLIENT_TOOLS_SERVER, self._locate_client_call
                )
        except Exception as error:  # never a call that was not decided, nor a question left unanswered
            if kind == "hook":
                answer = {"decision": "deny", "reason": f"The runtime could not decide on this call: {error}"}
            else:
                answer = {
                    "jsonrpc": "2.0",
                    "id": payload.get("id"),
                    "error": {"code": INTERNAL_ERROR, "message": str(error)},
                }
        self._channel.send({"id": request_id, "answer": answer})

    async def _before_tool(self, called: dict[str, Any]) -> dict[str, Any]:
        name, tool_input = str(called.get("tool_name", "")), called.get("tool_input") or {}
        if name.startswith(CLIENT_TOOL_PREFIX) or self._gate.allows(name, tool_input):
            return {}
        call_id = await self._locate({name}, tool_input)
        call = CallIds(self._stream.tool_block_id(call_id), call_id)
        waiting = lambda: self._stream.show_status(call_id, blocks_pb2.TOOL_STATUS_WAITING_FOR_APPROVAL)  # noqa: E731
        ruling = await self._gate.rule(call, name, tool_input, waiting)
        if not ruling.runs:
            return {"decision": "deny", "reason": ruling.message}
        self._stream.show_status(call_id, blocks_pb2.TOOL_STATUS_RUNNING)
        if ruling.tool_input == tool_input:
            return {}
        return {"hookSpecificOutput": {"hookEventName": "BeforeTool", "tool_input": dict(ruling.tool_input)}}

    async def _locate_client_call(self, params: Mapping[str, Any]) -> tuple[CallIds, Callable[[], None]]:
        name, arguments = str(params.get("name", "")), params.get("arguments") or {}
        call_id = await self._locate({CLIENT_TOOL_PREFIX + name, name}, arguments)
        waiting = lambda: self._stream.show_status(call_id, blocks_pb2.TOOL_STATUS_WAITING_FOR_RESULT)  # noqa: E731
        return CallIds(self._stream.tool_block_id(call_id), call_id), waiting

    async def _locate(self, tool_names: set[str], tool_input: Mapping[str, Any]) -> str:
        """The call a question is about, once the CLI's own line about it has come (empty if it does not)."""
        deadline = asyncio.get_running_loop().time() + LOCATE_SECONDS
        while not (call_id := self._stream.claim_call(tool_names, tool_input)):
            self._call_seen.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return ""
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._call_seen.wait(), left)
        return call_id
