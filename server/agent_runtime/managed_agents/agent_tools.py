"""An agent's `tools` and `mcp_servers` as Managed Agents writes them, and the profile fields they are here:
the agent toolset is the profile's tools (Claude Code's names) with a permission rule per tool that asks
or is turned off; custom tools are client tools; an MCP toolset is an external MCP server over HTTP, with
a rule on its tools' names (mcp__server__tool). A rule with a pattern ("Bash(git push:*)") has no
counterpart and is left out of what is shown."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import permissions_pb2, profile_pb2
from agent_runtime.managed_agents.errors import invalid

TOOLSET = "agent_toolset_20260401"
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
CLAUDE_NAMES = {toolset: claude for claude, toolset in TOOLSET_NAMES.items()}
ASK, DENY = permissions_pb2.PERMISSION_ACTION_ASK, permissions_pb2.PERMISSION_ACTION_DENY
POLICIES = {"always_allow": None, "always_ask": ASK}
MAX_MCP_SERVERS = 20


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("invalid_tools", f"{where} must be an object")
    return value


def _policy(config: dict[str, Any], where: str) -> tuple[bool | None, int | None, bool]:
    """(enabled, the action of its rule (None: it runs), whether a policy was given)."""
    enabled = config.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise invalid("invalid_tools", f"{where}.enabled must be a boolean")
    policy = config.get("permission_policy")
    if policy is None:
        return enabled, None, False
    kind = _object(policy, f"{where}.permission_policy").get("type")
    if not isinstance(kind, str) or kind not in POLICIES:
        raise invalid(
            "invalid_permission_policy",
            f"{where}.permission_policy must be always_allow or always_ask: agent-runtime judges no call by model",
        )
    return enabled, POLICIES[kind], True


def _configs(tool: dict[str, Any], where: str) -> dict[str, tuple[bool | None, int | None, bool]]:
    configs = tool.get("configs") or []
    if not isinstance(configs, list):
        raise invalid("invalid_tools", f"{where}.configs must be an array")
    found = {}
    for index, config in enumerate(configs):
        config = _object(config, f"{where}.configs[{index}]")
        name = config.get("name")
        if not isinstance(name, str) or not name:
            raise invalid("invalid_tools", f"{where}.configs[{index}].name must be a tool's name")
        found[name] = _policy(config, f"{where}.configs[{index}]")
    return found


class ToolsReader:
    """Fills a profile's tools, rules, client tools and external MCP servers from an agent's fields."""

    def __init__(self, profile: profile_pb2.AgentProfile) -> None:
        self._profile = profile

    def read(self, tools: list[Any], mcp_servers: list[Any]) -> None:
        profile = self._profile
        for field in ("tools", "client_tools", "external_mcp_servers"):
            profile.ClearField(field)
        profile.permissions.ClearField("rules")
        self._servers(mcp_servers)
        has_toolset = False
        for index, tool in enumerate(tools):
            tool = _object(tool, f"tools[{index}]")
            kind = tool.get("type")
            if kind == TOOLSET:
                has_toolset = True
                self._toolset(tool, f"tools[{index}]")
            elif kind == "custom":
                self._custom(tool, f"tools[{index}]")
            elif kind == "mcp_toolset":
                self._mcp_toolset(tool, f"tools[{index}]")
            else:
                raise invalid("invalid_tools", f"tools[{index}].type must be {TOOLSET}, custom or mcp_toolset")
        if not has_toolset:  # no toolset: none of its tools
            self._rules((claude, DENY) for claude in TOOLSET_NAMES)

    def _rules(self, rules: Any) -> None:
        self._profile.permissions.rules.extend(
            permissions_pb2.PermissionRule(rule=rule, action=action) for rule, action in rules
        )

    def _toolset(self, tool: dict[str, Any], where: str) -> None:
        default_enabled, default_action, _ = _policy(
            _object(tool.get("default_config") or {}, f"{where}.default_config"), f"{where}.default_config"
        )
        configs = _configs(tool, where)
        unknown = sorted(set(configs) - set(CLAUDE_NAMES))
        if unknown:
            raise invalid("invalid_tools", f"{where}.configs names {', '.join(unknown)}: not tools of {TOOLSET}")
        enabled, rules = [], []
        for toolset_name, claude in CLAUDE_NAMES.items():
            on, action, given = configs.get(toolset_name, (None, None, False))
            on = default_enabled is not False if on is None else on
            if not on:
                rules.append((claude, DENY))
                continue
            enabled.append(claude)
            if (action if given else default_action) == ASK:
                rules.append((claude, ASK))
        if len(enabled) < len(CLAUDE_NAMES):
            self._profile.tools.extend(enabled)  # only these; none listed: the architecture's own set
        self._rules(rules)

    def _custom(self, tool: dict[str, Any], where: str) -> None:
        name, description = tool.get("name"), tool.get("description", "")
        schema = tool.get("input_schema") or {"type": "object"}
        if not isinstance(name, str) or not isinstance(description, str) or not isinstance(schema, dict):
            raise invalid("invalid_tools", f"{where} needs a name, a description and an input_schema object")
        client_tool = permissions_pb2.ClientTool(name=name, description=description)
        try:
            client_tool.input_schema.update(schema)
        except (TypeError, ValueError) as error:
            raise invalid("invalid_tools", f"{where}.input_schema: {error}") from None
        self._profile.client_tools.append(client_tool)

    def _servers(self, mcp_servers: list[Any]) -> None:
        if len(mcp_servers) > MAX_MCP_SERVERS:
            raise invalid("invalid_mcp_servers", f"mcp_servers holds more than {MAX_MCP_SERVERS} servers")
        for index, server in enumerate(mcp_servers):
            server = _object(server, f"mcp_servers[{index}]")
            name, url = server.get("name"), server.get("url")
            if server.get("type") != "url" or not isinstance(name, str) or not name or not isinstance(url, str):
                raise invalid("invalid_mcp_servers", f'mcp_servers[{index}] must be {{"type": "url", "name", "url"}}')
            if any(known.name == name for known in self._profile.external_mcp_servers):
                raise invalid("invalid_mcp_servers", f"mcp_servers names {name!r} twice")
            self._profile.external_mcp_servers.add(name=name, type="http", url=url)

    def _mcp_toolset(self, tool: dict[str, Any], where: str) -> None:
        server = tool.get("mcp_server_name")
        if server not in [known.name for known in self._profile.external_mcp_servers]:
            raise invalid("invalid_tools", f"{where}.mcp_server_name must name one of mcp_servers")
        enabled, action, _ = _policy(
            _object(tool.get("default_config") or {}, f"{where}.default_config"), f"{where}.default_config"
        )
        rules = [
            (f"mcp__{server}__{name}", DENY if on is False else act)
            for name, (on, act, _) in _configs(tool, where).items()
        ]
        rules.append((f"mcp__{server}__*", DENY if enabled is False else action))
        self._rules((rule, action) for rule, action in rules if action is not None)


def _shown_policy(action: int | None) -> dict[str, str]:
    return {"type": "always_ask" if action == ASK else "always_allow"}


def tools_json(profile: profile_pb2.AgentProfile) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The agent's `tools` and `mcp_servers`, from the profile."""
    exact = {rule.rule: rule.action for rule in profile.permissions.rules}
    tools: list[dict[str, Any]] = []
    listed = set(profile.tools) or set(TOOLSET_NAMES)
    configs = []
    for claude, toolset_name in TOOLSET_NAMES.items():
        on = claude in listed and exact.get(claude) != DENY
        action = exact.get(claude)
        if not on or action == ASK:
            configs.append(
                {
                    "type": toolset_name,
                    "name": toolset_name,
                    "enabled": on,
                    "permission_policy": _shown_policy(action if on else None),
                }
            )
    if any(config["enabled"] for config in configs) or len(configs) < len(TOOLSET_NAMES):
        tools.append(
            {
                "type": TOOLSET,
                "default_config": {"enabled": True, "permission_policy": _shown_policy(None)},
                "configs": configs,
            }
        )
    servers = []
    for server in profile.external_mcp_servers:
        if not server.url:
            continue  # a stdio server has no counterpart there
        servers.append({"type": "url", "name": server.name, "url": server.url})
        action = exact.get(f"mcp__{server.name}__*")
        tools.append(
            {
                "type": "mcp_toolset",
                "mcp_server_name": server.name,
                "default_config": {"enabled": action != DENY, "permission_policy": _shown_policy(action)},
                "configs": [],
            }
        )
    for client_tool in profile.client_tools:
        schema = json_format.MessageToDict(client_tool.input_schema) if client_tool.HasField("input_schema") else {}
        tools.append(
            {
                "type": "custom",
                "name": client_tool.name,
                "description": client_tool.description,
                "input_schema": {"type": "object", **schema},
            }
        )
    return tools, servers
