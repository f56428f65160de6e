"""Permission rules in Claude Code's syntax, and the policy a session's calls are judged by.

A rule names a tool ("Write", "mcp__github__*") and optionally a pattern on the input that matters for that
tool: a command prefix or the command itself for Bash ("Bash(git push:*)", "Bash(ls)"), a path in the
workspace for the file tools ("Write(src/**)", "Edit(*.env)": a pattern without "/" matches a file's name in
any folder), a host for WebFetch ("WebFetch(domain:example.com)"), and any string input for other tools.
The first rule that matches decides; a call no rule matches gets the policy's default. The Gemini CLI's tools
answer to their own names and to the Claude Code names of what they do ("Write" matches write_file).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from agent_runtime._gen.agentruntime.v1 import permissions_pb2, profile_pb2, session_pb2
from agent_runtime.errors import FieldViolation
from agent_runtime.sandboxes.base import WORKSPACE

Action: TypeAlias = permissions_pb2.PermissionAction.ValueType
ALLOW = permissions_pb2.PERMISSION_ACTION_ALLOW
ASK = permissions_pb2.PERMISSION_ACTION_ASK
DENY = permissions_pb2.PERMISSION_ACTION_DENY
MAX_RULES = 200
MAX_RULE_CHARS = 1024
RULE_PATTERN = re.compile(r"(?P<tool>[A-Za-z0-9_*.-]+)(?:\((?P<spec>.+)\))?", re.DOTALL)
CLAUDE_NAMES = {"write_file": "Write", "replace": "Edit", "read_file": "Read", "run_shell_command": "Bash",
                "glob": "Glob", "grep_search": "Grep", "list_directory": "LS", "web_fetch": "WebFetch",
                "google_web_search": "WebSearch"}  # fmt: skip
PATH_TOOLS = {"Read": "file_path", "Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path"}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    written: str
    tool: str
    spec: str | None
    action: Action

    def matches(self, tool_name: str, tool_input: Mapping[str, Any]) -> bool:
        claude_name = CLAUDE_NAMES.get(tool_name, tool_name)
        if not (fnmatch.fnmatchcase(tool_name, self.tool) or fnmatch.fnmatchcase(claude_name, self.tool)):
            return False
        tool_name = claude_name
        if self.spec is None:
            return True
        if tool_name == "Bash":
            return _command_matches(self.spec, str(tool_input.get("command", "")))
        if tool_name in PATH_TOOLS:
            return _path_matches(self.spec, str(tool_input.get(PATH_TOOLS[tool_name], "")))
        if tool_name == "WebFetch" and self.spec.startswith("domain:"):
            return _host_matches(self.spec.removeprefix("domain:"), str(tool_input.get("url", "")))
        return any(fnmatch.fnmatchcase(v, self.spec) for v in tool_input.values() if isinstance(v, str))


@dataclass(frozen=True)
class Verdict:
    action: Action
    rule: str  # as written; empty when the default decided


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    default: Action

    def judge(self, tool_name: str, tool_input: Mapping[str, Any]) -> Verdict:
        for rule in self.rules:
            if rule.matches(tool_name, tool_input):
                return Verdict(rule.action, rule.written)
        return Verdict(self.default, "")

    @property
    def allows_everything(self) -> bool:
        return self.default == ALLOW and all(rule.action == ALLOW for rule in self.rules)


def _command_matches(spec: str, command: str) -> bool:
    command = command.strip()
    if spec.endswith(":*"):
        prefix = spec.removesuffix(":*")
        return command == prefix or command.startswith(prefix + " ")
    return fnmatch.fnmatchcase(command, spec)


def _path_matches(spec: str, path: str) -> bool:
    relative = path.removeprefix(WORKSPACE + "/").removeprefix("./")
    pattern = spec.removeprefix("/").removeprefix("./")
    if "/" not in pattern:
        return fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], pattern) or fnmatch.fnmatchcase(relative, pattern)
    return fnmatch.fnmatchcase(relative, pattern)


def _host_matches(domain: str, url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    domain = domain.lower()
    return host == domain or host.endswith("." + domain)


def parse(rule: permissions_pb2.PermissionRule) -> Rule | None:
    """The rule, or None when it is not written as a rule."""
    found = RULE_PATTERN.fullmatch(rule.rule.strip())
    if found is None or rule.action == permissions_pb2.PERMISSION_ACTION_UNSPECIFIED:
        return None
    return Rule(rule.rule, found["tool"], found["spec"], rule.action)


def check(field: str, policy: permissions_pb2.PermissionPolicy) -> list[FieldViolation]:
    """What is wrong with a policy, field by field."""
    problems = []
    if len(policy.rules) > MAX_RULES:
        problems.append(FieldViolation(f"{field}.rules", f"holds more than {MAX_RULES} rules", "TOO_MANY_RULES"))
    for index, rule in enumerate(policy.rules):
        where = f"{field}.rules[{index}]"
        if len(rule.rule) > MAX_RULE_CHARS:
            problems.append(FieldViolation(f"{where}.rule", f"is longer than {MAX_RULE_CHARS}", "FIELD_TOO_LONG"))
        elif RULE_PATTERN.fullmatch(rule.rule.strip()) is None:
            problems.append(
                FieldViolation(f"{where}.rule", 'is not a rule such as "Write", "Bash(git push:*)"', "INVALID_RULE")
            )
        if rule.action == permissions_pb2.PERMISSION_ACTION_UNSPECIFIED:
            problems.append(FieldViolation(f"{where}.action", "is required: ALLOW, ASK or DENY", "INVALID_RULE"))
    return problems


def effective(profile: profile_pb2.AgentProfile, options: session_pb2.SessionOptions) -> Policy:
    """The session's rules ahead of the profile's; the session's default, else the profile's, else ALLOW."""
    written: Iterable[permissions_pb2.PermissionRule] = [*options.permissions.rules, *profile.permissions.rules]
    rules = tuple(rule for rule in map(parse, written) if rule is not None)
    default = options.permissions.default_action or profile.permissions.default_action or ALLOW
    return Policy(rules, default)
