"""An agent as Managed Agents writes and shows it, and the agent profile it is here.

A create names every field; an update replaces the fields it gives (lists whole, null clears), patches
metadata (a key given null is removed) and keeps the rest. What has no counterpart is refused with a
reason rather than dropped: skills (a profile's skills are files, not skill ids), multiagent, an
execution identity other than the service account."""

from __future__ import annotations

import secrets
import string
from typing import Any

from agent_runtime._gen.agentruntime.v1 import profile_pb2
from agent_runtime.managed_agents.agent_tools import ToolsReader, tools_json
from agent_runtime.managed_agents.errors import invalid
from agent_runtime.managed_agents.requests import text_field
from agent_runtime.managed_agents.times import rfc3339

ID_ALPHABET = string.digits + string.ascii_lowercase
SERVICE_ACCOUNT = {"type": "service_account"}
EPOCH = "1970-01-01T00:00:00Z"  # a built-in profile has no stored time: shown as the epoch


def new_agent_id() -> str:
    return "agent_" + "".join(secrets.choice(ID_ALPHABET) for _ in range(24))


def model_of(value: Any) -> str:
    """A model as Managed Agents gives it: its id, or {"id": ...}."""
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str) or not value:
        raise invalid("invalid_model", 'model must be a model id, or {"id": ...}')
    return value


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("invalid_field", f"{name} must be an array")
    return value


def _refuse_unserved(body: dict[str, Any]) -> None:
    if body.get("skills"):
        raise invalid("not_served", "agent-runtime does not serve skill ids: a profile file carries its skills")
    if body.get("multiagent") is not None:
        raise invalid("not_served", "agent-runtime does not serve multiagent orchestration; subagents are a profile's")
    identity = body.get("execution_identity")
    if identity is not None and identity != SERVICE_ACCOUNT:
        raise invalid("not_served", "agent-runtime runs every agent as its service account")


def _labels(value: Any, patch: bool) -> dict[str, str | None]:
    if value is None:
        return {}
    allowed = (str, type(None)) if patch else (str,)
    if not isinstance(value, dict) or not all(isinstance(v, allowed) for v in value.values()):
        raise invalid("invalid_metadata", "metadata must be an object of strings" + (" (null removes a key)" * patch))
    return value


def profile_from_create(body: dict[str, Any]) -> profile_pb2.AgentProfile:
    _refuse_unserved(body)
    profile = profile_pb2.AgentProfile(
        id=new_agent_id(),
        name=text_field(body, "name", required=True) or "",
        description=text_field(body, "description") or "",
        system_prompt=text_field(body, "system") or "",
        model=model_of(body.get("model")),
    )
    profile.metadata.update({key: str(value) for key, value in _labels(body.get("metadata"), patch=False).items()})
    ToolsReader(profile).read(_list(body, "tools"), _list(body, "mcp_servers"))
    return profile


def profile_from_update(body: dict[str, Any], current: profile_pb2.AgentProfile) -> profile_pb2.AgentProfile:
    """`current` with what the update gives."""
    _refuse_unserved(body)
    profile = profile_pb2.AgentProfile()
    profile.CopyFrom(current)
    if "name" in body:
        profile.name = text_field(body, "name", required=True) or ""
    if "description" in body:
        profile.description = text_field(body, "description") or ""
    if "system" in body:
        profile.system_prompt = text_field(body, "system") or ""
    if "model" in body:
        profile.model = model_of(body["model"])
    for key, value in _labels(body.get("metadata"), patch=True).items():
        if value is None:
            profile.metadata.pop(key, None)
        else:
            profile.metadata[key] = value
    if "tools" in body or "mcp_servers" in body:
        shown_tools, shown_servers = tools_json(current)
        tools = _list(body, "tools") if "tools" in body else shown_tools
        servers = _list(body, "mcp_servers") if "mcp_servers" in body else shown_servers
        ToolsReader(profile).read(tools, servers)
    return profile


def session_agent_json(profile: profile_pb2.AgentProfile) -> dict[str, Any]:
    """The agent as a session shows it: without its times and metadata."""
    tools, servers = tools_json(profile)
    return {
        "id": profile.id,
        "type": "agent",
        "name": profile.name or profile.id,
        "model": {"id": profile.model or "default"},  # "default": each architecture's own
        "system": profile.system_prompt or None,
        "description": profile.description or None,
        "tools": tools,
        "mcp_servers": servers,
        "skills": [{"skill_id": skill.name, "type": "custom", "version": "1"} for skill in profile.skills],
        "execution_identity": SERVICE_ACCOUNT,
        "version": profile.version or 1,
    }


def agent_json(profile: profile_pb2.AgentProfile) -> dict[str, Any]:
    return {
        **session_agent_json(profile),
        "metadata": dict(profile.metadata),
        "created_at": rfc3339(profile.created_at) or EPOCH,
        "updated_at": rfc3339(profile.updated_at) or EPOCH,
        "archived_at": rfc3339(profile.archived_at),
    }
