"""The tools a caller runs for a session: the profile's, and the session's options' (which replace a profile's
tool of the same name), and what makes a declaration one the agent can be offered."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent_runtime._gen.agentruntime.v1 import permissions_pb2, profile_pb2, session_pb2
from agent_runtime.errors import FieldViolation

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_CLIENT_TOOLS = 64
MAX_DESCRIPTION_CHARS = 4096


def client_tools(
    profile: profile_pb2.AgentProfile, options: session_pb2.SessionOptions
) -> list[permissions_pb2.ClientTool]:
    by_name = {tool.name: tool for tool in profile.client_tools}
    by_name.update({tool.name: tool for tool in options.client_tools})
    return list(by_name.values())


def check(field: str, tools: Sequence[permissions_pb2.ClientTool], taken: Sequence[str]) -> list[FieldViolation]:
    """What is wrong with client tools, field by field; `taken`: the agent's own tools' names."""
    problems = []
    if len(tools) > MAX_CLIENT_TOOLS:
        problems.append(FieldViolation(field, f"holds more than {MAX_CLIENT_TOOLS} tools", "TOO_MANY_TOOLS"))
    for index, tool in enumerate(tools):
        where = f"{field}[{index}]"
        if not NAME.fullmatch(tool.name):
            problems.append(FieldViolation(f"{where}.name", "must be 1 to 64 of [A-Za-z0-9_-]", "INVALID_TOOL_NAME"))
        elif tool.name in taken:
            problems.append(
                FieldViolation(f"{where}.name", f"{tool.name!r} is one of the agent's own tools", "INVALID_TOOL_NAME")
            )
        if len(tool.description) > MAX_DESCRIPTION_CHARS:
            problems.append(
                FieldViolation(f"{where}.description", f"is longer than {MAX_DESCRIPTION_CHARS}", "FIELD_TOO_LONG")
            )
        schema_type = tool.input_schema.fields.get("type")
        if tool.HasField("input_schema") and (schema_type is None or schema_type.string_value != "object"):
            problems.append(
                FieldViolation(
                    f"{where}.input_schema", 'must be an object schema ({"type": "object", ...})', "INVALID_SCHEMA"
                )
            )
    return problems
