"""An agent profile materialised for the Claude Code CLI: the files of its config directory and its flags."""

from __future__ import annotations

import json

import pytest
import yaml

from agent_runtime._gen.agentruntime.v1 import profile_pb2 as pb
from agent_runtime.agents.claude_profile import CONFIG_DIR, MCP_CONFIG, cli_arguments, config_files, problems

TRICKY = 'Reviews code: carefully, "quoted" # not a comment\n- and: [not, a, list]'


def rich_profile() -> pb.AgentProfile:
    return pb.AgentProfile(
        id="rich",
        system_prompt="Be brief.",
        agent_md_file="# Rules\nAlways test.\n",
        tools=["Read", "Bash"],
        subagents=[
            pb.Subagent(
                name="reviewer", description=TRICKY, prompt="You review.\n", tools=["Read", "Grep"], model="haiku"
            ),
            pb.Subagent(name="helper", description="Helps", prompt="You help."),
        ],
        commands=[pb.Command(name="deploy", prompt="Deploy $ARGUMENTS\n")],
        skills=[
            pb.Skill(
                name="pdf",
                description="yes",  # a YAML 1.1 boolean unless quoted
                skill_md="# PDF\nSee docs/ref.md\n",
                supporting_files=[
                    pb.SupportingFile(relative_path="docs/ref.md", content="reference"),
                    pb.SupportingFile(relative_path="./run.py", content="print(1)"),
                ],
            )
        ],
        bundled_mcp_servers=[
            pb.BundledMcpServer(name="db", local_project_path="mcps/db", start_command="node dist/index.js --port 0"),
            pb.BundledMcpServer(name="py", start_command="uv run 'my server.py' -m pkg.mod @scope/pkg"),
        ],
        external_mcp_servers=[
            pb.ExternalMcpServer(name="local", type="stdio", command="npx", args=["-y", "x"], env={"K": "v"}),
            pb.ExternalMcpServer(name="web", type="http", url="https://example.test/mcp", headers={"A": "b"}),
            pb.ExternalMcpServer(name="events", type="sse", url="https://example.test/sse"),
            pb.ExternalMcpServer(name="untyped", command="serve"),
        ],
    )


def frontmatter(content: bytes) -> tuple[dict[str, str], str]:
    """The YAML mapping between the --- lines, and the body after them."""
    opening, front, body = content.decode().split("---\n", 2)
    assert opening == ""
    mapping = yaml.safe_load(front)
    assert isinstance(mapping, dict)
    return mapping, body


def test_a_rich_profile_becomes_exactly_these_files() -> None:
    files = config_files(rich_profile())
    assert sorted(files) == sorted(
        f"{CONFIG_DIR}/{path}"
        for path in (
            "CLAUDE.md",
            "agents/reviewer.md",
            "agents/helper.md",
            "commands/deploy.md",
            "skills/pdf/SKILL.md",
            "skills/pdf/docs/ref.md",
            "skills/pdf/run.py",
            "mcp.json",
        )
    )
    assert files[f"{CONFIG_DIR}/CLAUDE.md"] == b"# Rules\nAlways test.\n"
    assert files[f"{CONFIG_DIR}/commands/deploy.md"] == b"Deploy $ARGUMENTS\n"
    assert files[f"{CONFIG_DIR}/agents/helper.md"] == b"---\nname: helper\ndescription: Helps\n---\n\nYou help."
    assert (
        files[f"{CONFIG_DIR}/skills/pdf/SKILL.md"]
        == b"---\nname: pdf\ndescription: 'yes'\n---\n\n# PDF\nSee docs/ref.md\n"
    )
    assert files[f"{CONFIG_DIR}/skills/pdf/docs/ref.md"] == b"reference"
    assert files[f"{CONFIG_DIR}/skills/pdf/run.py"] == b"print(1)"


def test_frontmatter_parses_back_to_the_profiles_values() -> None:
    files = config_files(rich_profile())
    reviewer, body = frontmatter(files[f"{CONFIG_DIR}/agents/reviewer.md"])
    assert reviewer == {"name": "reviewer", "description": TRICKY, "tools": "Read, Grep", "model": "haiku"}
    assert body == "\nYou review.\n"
    helper, _ = frontmatter(files[f"{CONFIG_DIR}/agents/helper.md"])
    assert helper == {"name": "helper", "description": "Helps"}  # no tools or model: both inherit
    skill, body = frontmatter(files[f"{CONFIG_DIR}/skills/pdf/SKILL.md"])
    assert skill == {"name": "pdf", "description": "yes"}
    assert body == "\n# PDF\nSee docs/ref.md\n"


def test_mcp_servers_are_one_json_file() -> None:
    servers = json.loads(config_files(rich_profile())[MCP_CONFIG])["mcpServers"]
    assert servers == {
        "db": {"type": "stdio", "command": "node", "args": ["/opt/mcp/db/dist/index.js", "--port", "0"], "env": {}},
        # Only arguments that name the project's files move into it: not subcommands, modules or packages.
        "py": {
            "type": "stdio",
            "command": "uv",
            "args": ["run", "/opt/mcp/py/my server.py", "-m", "pkg.mod", "@scope/pkg"],
            "env": {},
        },
        "local": {"type": "stdio", "command": "npx", "args": ["-y", "x"], "env": {"K": "v"}},
        "web": {"type": "http", "url": "https://example.test/mcp", "headers": {"A": "b"}},
        "events": {"type": "sse", "url": "https://example.test/sse", "headers": {}},
        "untyped": {"type": "stdio", "command": "serve", "args": [], "env": {}},
    }


def test_a_relative_command_runs_from_the_project() -> None:
    profile = pb.AgentProfile(bundled_mcp_servers=[pb.BundledMcpServer(name="b", start_command="./bin/serve --x")])
    server = json.loads(config_files(profile)[MCP_CONFIG])["mcpServers"]["b"]
    assert (server["command"], server["args"]) == ("/opt/mcp/b/bin/serve", ["--x"])


def test_the_flags_of_a_rich_profile() -> None:
    assert cli_arguments(rich_profile(), "claude-sonnet-4-5", 2.5, 30) == [
        "--model",
        "claude-sonnet-4-5",
        "--append-system-prompt",
        "Be brief.",
        "--tools=Read,Bash,Task,Skill",
        f"--mcp-config={MCP_CONFIG}",
        "--strict-mcp-config",
        "--max-budget-usd",
        "2.5",
        "--max-turns",
        "30",
    ]


def test_the_tools_list_adds_what_the_profiles_own_pieces_need_once() -> None:
    with_skill = pb.AgentProfile(tools=["Skill", "Read", "mcp__echo"], skills=[pb.Skill(name="s", description="d")])
    assert cli_arguments(with_skill, "", 0, 0) == ["--tools=Skill,Read"], "MCP tools come with their servers"
    with_agents = pb.AgentProfile(
        tools=["Agent"], subagents=[pb.Subagent(name="a", description="d")], commands=[pb.Command(name="c")]
    )
    assert cli_arguments(with_agents, "", 0, 0) == ["--tools=Agent,Skill"]
    assert cli_arguments(pb.AgentProfile(skills=[pb.Skill(name="s", description="d")]), "", 0, 0) == [], (
        "no tools listed: Claude Code's own set"
    )


def test_an_empty_profile_gives_no_files_and_only_the_asked_for_flags() -> None:
    assert config_files(pb.AgentProfile()) == {}
    assert cli_arguments(pb.AgentProfile(), "", 0, 0) == []
    assert cli_arguments(pb.AgentProfile(), "m", 0, 3) == ["--model", "m", "--max-turns", "3"]
    assert cli_arguments(pb.AgentProfile(), "", float("inf"), -1) == []


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        (pb.AgentProfile(skills=[pb.Skill(name="")]), "skills[0].name"),
        (pb.AgentProfile(skills=[pb.Skill(name="..")]), "skills[0].name"),
        (pb.AgentProfile(skills=[pb.Skill(name="a/b")]), "skills[0].name"),
        (pb.AgentProfile(subagents=[pb.Subagent(name="../x", description="d")]), "subagents[0].name"),
        (pb.AgentProfile(subagents=[pb.Subagent(name="x")]), "subagents[0].description"),
        (pb.AgentProfile(commands=[pb.Command(name="/etc/passwd")]), "commands[0].name"),
        (pb.AgentProfile(commands=[pb.Command(name="a"), pb.Command(name="a")]), "commands[1].name"),
        (pb.AgentProfile(skills=[pb.Skill(name="s", supporting_files=[pb.SupportingFile()])]), "supporting_files[0]"),
        (
            pb.AgentProfile(skills=[pb.Skill(name="s", supporting_files=[pb.SupportingFile(relative_path="../x")])]),
            "skills[0].supporting_files[0].relative_path",
        ),
        (
            pb.AgentProfile(
                skills=[pb.Skill(name="s", supporting_files=[pb.SupportingFile(relative_path="a/../../x")])]
            ),
            "skills[0].supporting_files[0].relative_path",
        ),
        (
            pb.AgentProfile(skills=[pb.Skill(name="s", supporting_files=[pb.SupportingFile(relative_path="/etc/x")])]),
            "skills[0].supporting_files[0].relative_path",
        ),
        (
            pb.AgentProfile(
                skills=[pb.Skill(name="s", supporting_files=[pb.SupportingFile(relative_path="SKILL.md")])]
            ),
            "skills[0].supporting_files[0].relative_path",
        ),
        (
            pb.AgentProfile(bundled_mcp_servers=[pb.BundledMcpServer(name="..", start_command="x")]),
            "bundled_mcp_servers[0].name",
        ),
        (pb.AgentProfile(bundled_mcp_servers=[pb.BundledMcpServer(name="b")]), "bundled_mcp_servers[0].start_command"),
        (
            pb.AgentProfile(bundled_mcp_servers=[pb.BundledMcpServer(name="b", start_command="node 'x")]),
            "bundled_mcp_servers[0].start_command",
        ),
        (
            pb.AgentProfile(external_mcp_servers=[pb.ExternalMcpServer(name="e", type="ws", url="u")]),
            "external_mcp_servers[0].type",
        ),
        (
            pb.AgentProfile(external_mcp_servers=[pb.ExternalMcpServer(name="e", type="http")]),
            "external_mcp_servers[0].url",
        ),
        (
            pb.AgentProfile(external_mcp_servers=[pb.ExternalMcpServer(name="e", type="stdio")]),
            "external_mcp_servers[0].command",
        ),
        (
            pb.AgentProfile(
                bundled_mcp_servers=[pb.BundledMcpServer(name="x", start_command="s")],
                external_mcp_servers=[pb.ExternalMcpServer(name="x", command="c")],
            ),
            "external_mcp_servers[0].name",
        ),
        (
            pb.AgentProfile(external_mcp_servers=[pb.ExternalMcpServer(name="caller", command="c")]),
            "external_mcp_servers[0].name",
        ),
    ],
)
def test_a_name_or_path_that_escapes_or_collides_is_refused(profile: pb.AgentProfile, field: str) -> None:
    found = problems(profile)
    assert len(found) == 1 and field in found[0], found
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        config_files(profile)
    with pytest.raises(ValueError, match="invalid agent profile"):
        cli_arguments(profile, "m", 0, 0)


def test_a_sound_profile_has_no_problems() -> None:
    assert problems(rich_profile()) == []
    assert problems(pb.AgentProfile()) == []
