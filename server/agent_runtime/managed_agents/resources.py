"""A session as the Managed Agents API shows it, from the runtime's session: its status worked out from
the runtime state (running while a turn runs and waits for nobody; idle otherwise), its agent the profile
version it runs, its environment the one it was created in (or `default`)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import profile_pb2, session_pb2
from agent_runtime.managed_agents.agent_mapping import session_agent_json
from agent_runtime.managed_agents.environment_mapping import DEFAULT_ENVIRONMENT_ID
from agent_runtime.managed_agents.times import rfc3339

DEFAULT_ARCHITECTURE = "claude-agent-sdk"
ARCHITECTURE_KEY = "architecture"  # the metadata key that chooses what runs a session


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


def usage_json(session: session_pb2.Session) -> dict[str, Any]:
    usage = session.usage
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        # Every cache write counted as a 5-minute one: the models' answers here do not tell them apart.
        "cache_creation": {"ephemeral_5m_input_tokens": usage.cache_write_tokens, "ephemeral_1h_input_tokens": 0},
    }


def session_json(session: session_pb2.Session, profile: profile_pb2.AgentProfile) -> dict[str, Any]:
    return {
        "id": session.session_id,
        "type": "session",
        "status": status(session.runtime),
        "agent": session_agent_json(profile),
        "environment_id": session.environment_id or DEFAULT_ENVIRONMENT_ID,
        "title": session.name or None,
        "metadata": metadata_json(session),
        "resources": [],
        "outcome_evaluations": [],
        "stats": {},
        "usage": usage_json(session),
        "vault_ids": [],
        "created_at": rfc3339(session.created_at),
        "updated_at": rfc3339(session.last_activity) or rfc3339(session.created_at),
        "archived_at": rfc3339(session.archived_at),
    }
