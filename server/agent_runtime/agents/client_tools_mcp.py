"""The caller's client tools as an MCP server speaks them (JSON-RPC), for the CLIs that take tools from MCP
servers: the list comes from the gate, and each call waits for the caller's result (SubmitToolResult)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from agent_runtime.permissions.gate import CallIds, TurnGate, output_text

METHOD_NOT_FOUND = -32601
# Where a call shows: its tool_use block's id, and a way to show the block waiting for the caller's result.
Locate = Callable[[Mapping[str, Any]], Awaitable[tuple[CallIds, Callable[[], None]]]]


async def answer(message: Mapping[str, Any], gate: TurnGate, server_name: str, locate: Locate) -> dict[str, Any]:
    """The response to one JSON-RPC request (`locate` is given the tools/call params)."""
    method, params = message.get("method"), message.get("params") or {}
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message.get("id", 0)}
    if method == "initialize":
        reply["result"] = {
            "protocolVersion": params.get("protocolVersion", ""),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": server_name, "version": "1"},
        }
    elif method == "tools/list":
        reply["result"] = {
            "tools": [
                {"name": tool["name"], "description": tool["description"], "inputSchema": tool["input_schema"]}
                for tool in gate.client_tool_definitions()
            ]
        }
    elif method == "tools/call":
        reply["result"] = await _call(params, gate, locate)
    elif "id" not in message:  # a notification
        reply["result"] = {}
    else:
        reply["error"] = {"code": METHOD_NOT_FOUND, "message": f"no method {method!r}"}
    return reply


async def _call(params: Mapping[str, Any], gate: TurnGate, locate: Locate) -> dict[str, Any]:
    name, arguments = str(params.get("name", "")), params.get("arguments") or {}
    if not gate.is_client_tool(name):
        return {"content": [{"type": "text", "text": f"No tool {name!r}."}], "isError": True}
    call, waiting = await locate(params)
    output, is_error = await gate.call_client_tool(call, name, arguments, waiting)
    return {"content": [{"type": "text", "text": output_text(output)}], "isError": is_error}
