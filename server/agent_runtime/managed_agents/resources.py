"""Agents, environments and sessions as the Managed Agents API shows them, from the runtime's own messages.

An agent is an agent profile (read-only, version 1, until agents are stored and versioned); the one
environment is this runtime's sandbox; a session is the runtime's session, its status worked out from the
runtime state (running while a turn runs and waits for nobody; idle otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format, timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import profile_pb2, session_pb2

DEFAULT_ENVIRONMENT_ID = "default"
DEFAULT_ARCHITECTURE = "claude-agent-sdk"
ARCHITECTURE_KEY = "architecture"  # the metadata key that chooses what runs a session
# A profile has no creation time of its own: shown as the epoch.
EPOCH = "1970-01-01T00:00:00Z"
# Claude Code's tool names and the toolset's.
TOOLSET_NAMES = {
    "Bash": "bash",
    "Edit": "edit",
    "Read": "read",
    "Write": "write",
    "Glob": "glob",
    "Grep": "grep",
    "WebFetch": "web_fetch",
    "WebSearch": "web_search",
}
ALWAYS_ALLOW = {"type": "always_allow"}


def rfc3339(stamp: timestamp_pb2.Timestamp) -> str | None:
    return stamp.ToJsonString() if stamp.seconds or stamp.nanos else None


def _tools(profile: profile_pb2.AgentProfile) -> list[dict[str, Any]]:
    configs = [
        {"type": TOOLSET_NAMES[name], "name": TOOLSET_NAMES[name], "enabled": True, "permission_policy": ALWAYS_ALLOW}
        for name in profile.tools
        if name in TOOLSET_NAMES
    ]
    tools: list[dict[str, Any]] = [
        {
            "type": "agent_toolset_20260401",
            "default_config": {"enabled": not profile.tools, "permission_policy": ALWAYS_ALLOW},
            "configs": configs,
        }
    ]
    for tool in profile.client_tools:
        schema = json_format.MessageToDict(tool.input_schema) if tool.HasField("input_schema") else {}
        tools.append(
            {
                "type": "custom",
                "name": tool.name,
                "description": tool.description,
                "input_schema": {"type": "object", **schema},
            }
        )
    return tools


def session_agent_json(profile: profile_pb2.AgentProfile) -> dict[str, Any]:
    """The agent as a session shows it: the agent without its times and metadata."""
    return {
        "id": profile.id,
        "type": "agent",
        "name": profile.name or profile.id,
        "model": {"id": "default"},  # each architecture's default model, unless the session chose one
        "system": profile.system_prompt or None,
        "description": profile.description or None,
        "tools": _tools(profile),
        "mcp_servers": [
            {"name": server.name, "type": "url", "url": server.url}
            for server in profile.external_mcp_servers
            if server.url  # a stdio server has none: it has no counterpart there
        ],
        "skills": [{"skill_id": skill.name, "type": "custom", "version": "1"} for skill in profile.skills],
        "execution_identity": {"type": "service_account"},
        "version": 1,
    }


def agent_json(profile: profile_pb2.AgentProfile) -> dict[str, Any]:
    return {
        **session_agent_json(profile),
        "metadata": {},
        "created_at": EPOCH,
        "updated_at": EPOCH,
        "archived_at": None,
    }


def environment_json(sandbox: str) -> dict[str, Any]:
    return {
        "id": DEFAULT_ENVIRONMENT_ID,
        "type": "environment",
        "name": f"this runtime's {sandbox} sandbox",
        "description": "Each session runs in a sandbox of its own, from this runtime's sandbox provider.",
        "config": {"type": "self_hosted"},
        "metadata": {},
        "scope": "organization",
        "created_at": EPOCH,
        "updated_at": EPOCH,
        "archived_at": None,
    }


def status(runtime: session_pb2.RuntimeState) -> str:
    waiting = runtime.awaiting_approvals or runtime.awaiting_tool_results
    return "running" if runtime.turn_running and not waiting else "idle"


def metadata_json(session: session_pb2.Session) -> dict[str, str]:
    """The session's metadata as strings (Managed Agents metadata is str to str), with what runs it."""
    shown = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in json_format.MessageToDict(session.metadata).items()
    }
    return {**shown, ARCHITECTURE_KEY: session.architecture}


def session_json(session: session_pb2.Session, profile: profile_pb2.AgentProfile) -> dict[str, Any]:
    return {
        "id": session.session_id,
        "type": "session",
        "status": status(session.runtime),
        "agent": session_agent_json(profile),
        "environment_id": DEFAULT_ENVIRONMENT_ID,
        "title": session.name or None,
        "metadata": metadata_json(session),
        "resources": [],
        "outcome_evaluations": [],
        "stats": {},
        "usage": {},
        "vault_ids": [],
        "created_at": rfc3339(session.created_at),
        "updated_at": rfc3339(session.last_activity) or rfc3339(session.created_at),
        "archived_at": None,
    }
