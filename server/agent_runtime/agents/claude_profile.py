"""An agent profile as Claude Code sees it: files in the CLI's user config directory, and CLI flags.

The files go to CLAUDE_CONFIG_DIR rather than the workspace, so the user's workspace is never polluted and
profile files are never persisted as workspace files. Claude Code 2.1.197 reads from that directory the user
memory (CLAUDE.md), subagents (agents/), slash commands (commands/) and skills (skills/). MCP servers are
handed over with --mcp-config, so the CLI's own MCP configuration cannot add to them.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml

from agent_runtime._gen.agentruntime.v1 import profile_pb2

CONFIG_DIR = "/tmp/claude"
MCP_CONFIG = f"{CONFIG_DIR}/mcp.json"
# Where a bundled MCP server's project is copied in the sandbox: BUNDLED_MCP_DIR/<name>.
BUNDLED_MCP_DIR = "/opt/mcp"
MCP_TYPES = ("stdio", "sse", "http")
# The MCP server that serves the caller's client tools to Claude Code (claude_control), so no profile's may take it.
CLIENT_TOOLS_SERVER = "caller"
# A start_command argument with one of these suffixes is a file of the bundled project.
SCRIPT_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".ts", ".mts", ".py", ".sh", ".jar"})


def _name_problem(field: str, name: str) -> str | None:
    """Names become one path segment, so anything that is not exactly one segment is refused."""
    if not name:
        return f"{field} is empty"
    if "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        return f"{field} {name!r} must be a plain file name (no '/', '\\', '..')"
    return None


def _relative_path_problem(field: str, path: str) -> str | None:
    parts = PurePosixPath(path).parts
    if not path or not parts or "\0" in path:
        return f"{field} is empty"
    if path.startswith("/") or ".." in parts or "\\" in path:
        return f"{field} {path!r} must be a relative path inside the skill's directory (no leading '/', no '..')"
    if parts == ("SKILL.md",):
        return f"{field} {path!r} would replace the skill's SKILL.md"
    return None


def _unique_name_problems(kind: str, names: Iterable[str]) -> list[str]:
    found: list[str] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        problem = _name_problem(f"{kind}[{index}].name", name)
        if problem:
            found.append(problem)
        elif name in seen:
            found.append(f"{kind}[{index}].name {name!r} repeats {kind}[{seen[name]}].name")
        else:
            seen[name] = index
    return found


def _mcp_problems(profile: profile_pb2.AgentProfile) -> list[str]:
    """Bundled names become directories under BUNDLED_MCP_DIR; all names share one `mcpServers` mapping."""
    found = _unique_name_problems("bundled_mcp_servers", (server.name for server in profile.bundled_mcp_servers))
    for index, bundled in enumerate(profile.bundled_mcp_servers):
        field = f"bundled_mcp_servers[{index}].start_command"
        try:
            if not shlex.split(bundled.start_command):
                found.append(f"{field} is empty")
        except ValueError as error:
            found.append(f"{field} {bundled.start_command!r} is not a command line: {error}")
    taken = {server.name for server in profile.bundled_mcp_servers}
    names = {
        "bundled_mcp_servers": [server.name for server in profile.bundled_mcp_servers],
        "external_mcp_servers": [server.name for server in profile.external_mcp_servers],
    }
    found += [
        f"{kind}[{index}].name {CLIENT_TOOLS_SERVER!r} is the name of the server of the caller's client tools"
        for kind, kind_names in names.items()
        for index, name in enumerate(kind_names)
        if name == CLIENT_TOOLS_SERVER
    ]
    for index, server in enumerate(profile.external_mcp_servers):
        field = f"external_mcp_servers[{index}]"
        kind = _mcp_type(server)
        if not server.name:
            found.append(f"{field}.name is empty")
        elif server.name in taken:
            found.append(f"{field}.name {server.name!r} is the name of an earlier MCP server")
        taken.add(server.name)
        if kind not in MCP_TYPES:
            found.append(f"{field}.type {server.type!r} is not one of {', '.join(MCP_TYPES)}")
        elif kind == "stdio" and not server.command:
            found.append(f"{field}.command is empty (a stdio server needs one)")
        elif kind != "stdio" and not server.url:
            found.append(f"{field}.url is empty (a {kind} server needs one)")
    return found


def problems(profile: profile_pb2.AgentProfile) -> list[str]:
    """Why the profile cannot be materialised for Claude Code, one message per fault, each naming its field."""
    found = _unique_name_problems("skills", (skill.name for skill in profile.skills))
    found += _unique_name_problems("subagents", (agent.name for agent in profile.subagents))
    found += _unique_name_problems("commands", (command.name for command in profile.commands))
    found += [
        f"subagents[{index}].description is empty (Claude Code ignores a subagent without one)"
        for index, agent in enumerate(profile.subagents)
        if not agent.description.strip()
    ]
    for skill_index, skill in enumerate(profile.skills):
        seen: set[PurePosixPath] = set()
        for file_index, supporting in enumerate(skill.supporting_files):
            field = f"skills[{skill_index}].supporting_files[{file_index}].relative_path"
            problem = _relative_path_problem(field, supporting.relative_path)
            if problem:
                found.append(problem)
            elif PurePosixPath(supporting.relative_path) in seen:
                found.append(f"{field} {supporting.relative_path!r} is given twice")
            seen.add(PurePosixPath(supporting.relative_path))
    return found + _mcp_problems(profile)


def _checked(profile: profile_pb2.AgentProfile) -> None:
    found = problems(profile)
    if found:
        raise ValueError("invalid agent profile: " + "; ".join(found))


def _with_frontmatter(fields: Mapping[str, str], body: str) -> bytes:
    """YAML frontmatter written by a YAML emitter, so any description or name stays a plain string."""
    front = yaml.safe_dump(dict(fields), sort_keys=False, allow_unicode=True, width=1_000_000)
    return f"---\n{front}---\n\n{body}".encode()


def _subagent_file(agent: profile_pb2.Subagent) -> bytes:
    fields = {"name": agent.name, "description": agent.description}
    if agent.tools:
        fields["tools"] = ", ".join(agent.tools)
    if agent.model:
        fields["model"] = agent.model
    return _with_frontmatter(fields, agent.prompt)


def config_files(profile: profile_pb2.AgentProfile) -> dict[str, bytes]:
    """Absolute sandbox paths under CONFIG_DIR -> content."""
    _checked(profile)
    files: dict[str, bytes] = {}
    if profile.agent_md_file:
        files[f"{CONFIG_DIR}/CLAUDE.md"] = profile.agent_md_file.encode()
    for agent in profile.subagents:
        files[f"{CONFIG_DIR}/agents/{agent.name}.md"] = _subagent_file(agent)
    for command in profile.commands:
        files[f"{CONFIG_DIR}/commands/{command.name}.md"] = command.prompt.encode()
    for skill in profile.skills:
        directory = f"{CONFIG_DIR}/skills/{skill.name}"
        files[f"{directory}/SKILL.md"] = _with_frontmatter(
            {"name": skill.name, "description": skill.description}, skill.skill_md
        )
        for supporting in skill.supporting_files:
            files[f"{directory}/{PurePosixPath(supporting.relative_path)}"] = supporting.content.encode()
    servers = mcp_servers(profile)
    if servers:
        files[MCP_CONFIG] = (json.dumps({"mcpServers": servers}, indent=2, sort_keys=True) + "\n").encode()
    return files


def _in_project(token: str, project: str, *, command: bool = False) -> str:
    """`token` resolved inside the bundled project when it names one of the project's files: a relative path
    with a '/' in it, or (for arguments) a script such as server.py. Options, package names (@scope/pkg),
    URLs and bare words (run, -m module) stay as they are."""
    path = PurePosixPath(token)
    if token.startswith(("-", "@", "/")) or "://" in token or "=" in token:
        return token
    if "/" in token or (not command and path.suffix in SCRIPT_SUFFIXES):
        return f"{project}/{path}"
    return token


def _bundled_server(server: profile_pb2.BundledMcpServer) -> dict[str, Any]:
    project = f"{BUNDLED_MCP_DIR}/{server.name}"
    command, *args = shlex.split(server.start_command)
    return {
        "type": "stdio",
        "command": _in_project(command, project, command=True),
        "args": [_in_project(arg, project) for arg in args],
        "env": {},
    }


def _mcp_type(server: profile_pb2.ExternalMcpServer) -> str:
    """An untyped server is a stdio one, as in Claude Code's own configuration."""
    return server.type or "stdio"


def _external_server(server: profile_pb2.ExternalMcpServer) -> dict[str, Any]:
    kind = _mcp_type(server)
    if kind == "stdio":
        return {"type": kind, "command": server.command, "args": list(server.args), "env": dict(server.env)}
    return {"type": kind, "url": server.url, "headers": dict(server.headers)}


def mcp_servers(profile: profile_pb2.AgentProfile) -> dict[str, dict[str, Any]]:
    """The `mcpServers` mapping of MCP_CONFIG: bundled servers first, then external ones."""
    servers = {server.name: _bundled_server(server) for server in profile.bundled_mcp_servers}
    servers.update((server.name, _external_server(server)) for server in profile.external_mcp_servers)
    return servers


def _built_in_tools(profile: profile_pb2.AgentProfile) -> list[str]:
    """The profile's tools as Claude Code's --tools list, which is what the agent has at all (the runtime
    skips permission prompts, so an allow-list would restrict nothing). MCP tools come with their servers;
    the tools that run the profile's own subagents, skills and commands are added when it has them."""
    tools = [tool for tool in profile.tools if not tool.startswith("mcp__")]
    if profile.subagents and not {"Task", "Agent"} & set(tools):
        tools.append("Task")
    if (profile.skills or profile.commands) and "Skill" not in tools:
        tools.append("Skill")
    return tools


def cli_arguments(profile: profile_pb2.AgentProfile, model: str, max_budget_usd: float, max_turns: int) -> list[str]:
    """The claude CLI flags the profile implies. Variadic flags (--tools, --mcp-config) are given in their
    `--flag=value` form, so they cannot swallow a prompt that follows them."""
    _checked(profile)
    arguments: list[str] = []
    if model:
        arguments += ["--model", model]
    if profile.system_prompt:
        arguments += ["--append-system-prompt", profile.system_prompt]
    if profile.tools:
        arguments.append("--tools=" + ",".join(_built_in_tools(profile)))
    if profile.bundled_mcp_servers or profile.external_mcp_servers:
        arguments += [f"--mcp-config={MCP_CONFIG}", "--strict-mcp-config"]
    if max_budget_usd > 0 and math.isfinite(max_budget_usd):
        arguments += ["--max-budget-usd", repr(max_budget_usd)]
    if max_turns > 0:
        arguments += ["--max-turns", str(max_turns)]
    return arguments
