"""Permission rules as Claude Code writes them, judged against the calls an agent makes."""

from __future__ import annotations

import pytest

from agent_runtime._gen.agentruntime.v1 import permissions_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import profile_pb2, session_pb2
from agent_runtime.permissions import rules

ALLOW, ASK, DENY = pb.PERMISSION_ACTION_ALLOW, pb.PERMISSION_ACTION_ASK, pb.PERMISSION_ACTION_DENY
UNSPECIFIED = pb.PERMISSION_ACTION_UNSPECIFIED


def policy(*written: tuple[str, rules.Action], default: rules.Action = UNSPECIFIED) -> pb.PermissionPolicy:
    return pb.PermissionPolicy(
        default_action=default, rules=[pb.PermissionRule(rule=rule, action=action) for rule, action in written]
    )


@pytest.mark.parametrize(
    ("rule", "tool", "tool_input", "matches"),
    [
        ("Write", "Write", {"file_path": "a.txt"}, True),
        ("Write", "Edit", {"file_path": "a.txt"}, False),
        ("mcp__github__*", "mcp__github__create_issue", {}, True),
        ("mcp__github__*", "mcp__gitlab__create_issue", {}, False),
        ("Bash(git push:*)", "Bash", {"command": "git push origin main"}, True),
        ("Bash(git push:*)", "Bash", {"command": "git push"}, True),
        ("Bash(git push:*)", "Bash", {"command": "git pushd"}, False),
        ("Bash(git push:*)", "Bash", {"command": "git status"}, False),
        ("Bash(ls)", "Bash", {"command": " ls "}, True),
        ("Bash(ls)", "Bash", {"command": "ls -la"}, False),
        ("Write(src/**)", "Write", {"file_path": "src/a/b.py"}, True),
        ("Write(src/**)", "Write", {"file_path": "/workspace/src/b.py"}, True),
        ("Write(src/**)", "Write", {"file_path": "docs/b.md"}, False),
        ("Edit(.env)", "Edit", {"file_path": "config/.env"}, True),
        ("Edit(*.env)", "Edit", {"file_path": "prod.env"}, True),
        ("Read(/secrets/*)", "Read", {"file_path": "/workspace/secrets/key"}, True),
        ("WebFetch(domain:example.com)", "WebFetch", {"url": "https://docs.example.com/x"}, True),
        ("WebFetch(domain:example.com)", "WebFetch", {"url": "https://example.com.evil.io/"}, False),
        ("deploy(prod*)", "deploy", {"target": "production"}, True),
        ("deploy(prod*)", "deploy", {"target": "staging"}, False),
        ("Write(src/**)", "write_file", {"file_path": "src/a.py"}, True),  # the Gemini CLI's names
        ("Bash(git push:*)", "run_shell_command", {"command": "git push"}, True),
        ("run_shell_command", "run_shell_command", {"command": "ls"}, True),
        ("Edit", "write_file", {"file_path": "a.txt"}, False),
    ],
)
def test_a_rule_matches_the_calls_it_names(rule: str, tool: str, tool_input: dict[str, str], matches: bool) -> None:
    parsed = rules.parse(pb.PermissionRule(rule=rule, action=ASK))
    assert parsed is not None and parsed.matches(tool, tool_input) is matches


def test_the_first_matching_rule_decides_and_the_session_goes_first() -> None:
    profile = profile_pb2.AgentProfile(permissions=policy(("Bash", DENY), ("Write", ASK), default=ASK))
    options = session_pb2.SessionOptions(permissions=policy(("Bash(ls)", ALLOW)))
    judged = rules.effective(profile, options)
    assert judged.judge("Bash", {"command": "ls"}) == rules.Verdict(ALLOW, "Bash(ls)")
    assert judged.judge("Bash", {"command": "rm -rf /"}) == rules.Verdict(DENY, "Bash")
    assert judged.judge("Read", {"file_path": "a"}) == rules.Verdict(ASK, ""), "the profile's default"
    assert rules.effective(profile_pb2.AgentProfile(), session_pb2.SessionOptions()).allows_everything


def test_a_rule_that_is_not_one_is_said_by_field() -> None:
    problems = rules.check("permissions", policy(("Bash(", ASK), ("Write", UNSPECIFIED), ("x" * 1025, DENY)))
    assert [(p.field, p.reason) for p in problems] == [
        ("permissions.rules[0].rule", "INVALID_RULE"),
        ("permissions.rules[1].action", "INVALID_RULE"),
        ("permissions.rules[2].rule", "FIELD_TOO_LONG"),
    ]
