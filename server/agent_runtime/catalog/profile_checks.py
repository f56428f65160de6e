"""What makes an agent profile one the API may store: the checks a profile file gets, and more, since a
stored profile has no directory beside it (so no bundled MCP server projects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from agent_runtime._gen.agentruntime.v1 import profile_pb2
from agent_runtime.agents import claude_profile
from agent_runtime.errors import FieldViolation
from agent_runtime.permissions import client_tools, rules
from agent_runtime.sessions import validation

MAX_LABELS = 16
MAX_PACKAGES = 64
MAX_PACKAGE_CHARS = 256
MAX_HOSTS = 256
MAX_HOST_CHARS = 260
MAX_LABEL_KEY_CHARS = 64
MAX_LABEL_VALUE_CHARS = 512


def check_labels(field: str, labels: Mapping[str, str]) -> list[FieldViolation]:
    """Managed Agents' metadata limits: 16 pairs, keys up to 64 characters, values up to 512."""
    found = []
    if len(labels) > MAX_LABELS:
        found.append(FieldViolation(field, f"holds more than {MAX_LABELS} keys", "TOO_MANY_LABELS"))
    for key, value in labels.items():
        if not key or len(key) > MAX_LABEL_KEY_CHARS:
            found.append(FieldViolation(field, f"key {key[:80]!r} is not 1 to 64 characters", "INVALID_LABEL"))
        if len(value) > MAX_LABEL_VALUE_CHARS:
            found.append(FieldViolation(f"{field}.{key[:64]}", "is longer than 512 characters", "INVALID_LABEL"))
    return found


def check_packages(field: str, packages: Sequence[str]) -> list[FieldViolation]:
    """Package specs as pip and npm take them: never an option (a leading "-") or more than one word, since
    a caller's spec reaches their command lines."""
    found = []
    if len(packages) > MAX_PACKAGES:
        found.append(FieldViolation(field, f"holds more than {MAX_PACKAGES} packages", "TOO_MANY_PACKAGES"))
    for index, package in enumerate(packages):
        if not package or package.startswith("-") or len(package) > MAX_PACKAGE_CHARS or package.split() != [package]:
            found.append(
                FieldViolation(
                    f"{field}[{index}]",
                    "must be one package spec of up to 256 characters, not an option",
                    "INVALID_PACKAGE",
                )
            )
    return found


def check_hosts(field: str, hosts: Sequence[str]) -> list[FieldViolation]:
    found = []
    if len(hosts) > MAX_HOSTS:
        found.append(FieldViolation(field, f"holds more than {MAX_HOSTS} hosts", "TOO_MANY_HOSTS"))
    for index, host in enumerate(hosts):
        if not host or len(host) > MAX_HOST_CHARS or host.split() != [host] or "/" in host:
            found.append(FieldViolation(f"{field}[{index}]", "must be a host name or host:port", "INVALID_HOST"))
    return found


def check_limits(field: str, limits: profile_pb2.SandboxLimits) -> list[FieldViolation]:
    negative = [
        name
        for name in (
            "memory_bytes",
            "max_processes",
            "cpu_seconds",
            "file_size_bytes",
            "workspace_bytes",
            "disk_bytes",
            "disk_inodes",
        )
        if getattr(limits, name) < 0
    ]
    if limits.exec_timeout.ToTimedelta().total_seconds() < 0:
        negative.append("exec_timeout")
    return [FieldViolation(f"{field}.{name}", "must not be negative", "INVALID_LIMIT") for name in negative]


def check_profile(field: str, profile: profile_pb2.AgentProfile) -> list[FieldViolation]:
    found = [
        *validation.check_profile_id(f"{field}.id", profile.id),
        *validation.check_name(f"{field}.name", profile.name),
        *check_labels(f"{field}.metadata", profile.metadata),
        *rules.check(f"{field}.permissions", profile.permissions),
        *client_tools.check(f"{field}.client_tools", profile.client_tools, validation.NATIVE_TOOLS),
        *validation.check_workspace_files(f"{field}.default_workspace_files", profile.default_workspace_files),
        *check_packages(f"{field}.pip_dependencies", profile.pip_dependencies),
        *check_packages(f"{field}.npm_dependencies", profile.npm_dependencies),
        *check_hosts(f"{field}.network.allowed_hosts", profile.network.allowed_hosts),
        *check_limits(f"{field}.limits", profile.limits),
    ]
    if len(profile.model) > validation.MAX_MODEL_CHARS:
        found.append(FieldViolation(f"{field}.model", "is longer than 128 characters", "FIELD_TOO_LONG"))
    if profile.bundled_mcp_servers:
        found.append(
            FieldViolation(
                f"{field}.bundled_mcp_servers",
                "a stored profile has no directory to bundle a server's project from: use external_mcp_servers,"
                " or a profile file",
                "NOT_STORABLE",
            )
        )
    found += [FieldViolation(field, problem, "INVALID_PROFILE") for problem in claude_profile.problems(profile)]
    return found
