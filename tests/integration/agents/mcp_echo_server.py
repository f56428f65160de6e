"""A tiny MCP server over stdio, standard library only: one tool, `echo`, that answers
"<label> <$ECHO_NOTE>: <text>", so a test can tell which server answered and that its env arrived."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

LABEL = sys.argv[1] if len(sys.argv) > 1 else "echo"
TOOL = {
    "name": "echo",
    "description": "Echoes its text.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
}


def answer(method: str, params: dict[str, Any]) -> dict[str, Any] | None:
    if method == "initialize":
        return {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": LABEL, "version": "1"},
        }
    if method == "tools/list":
        return {"tools": [TOOL]}
    if method == "tools/call":
        note = os.environ.get("ECHO_NOTE", "")
        return {"content": [{"type": "text", "text": f"{LABEL} {note}: {params['arguments'].get('text', '')}"}]}
    if method == "ping":
        return {}
    return None


def main() -> None:
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue  # a notification, such as notifications/initialized
        result = answer(message.get("method", ""), message.get("params") or {})
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        if result is None:
            reply["error"] = {"code": -32601, "message": f"unknown method {message.get('method')}"}
        else:
            reply["result"] = result
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
