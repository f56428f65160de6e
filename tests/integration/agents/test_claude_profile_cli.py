"""The real Claude Code CLI, on the host, picks up a profile materialised by `claude_profile`.

CONFIG_DIR (/tmp/claude in the sandbox) maps to a temporary directory given as CLAUDE_CONFIG_DIR, and the
bundled MCP directory (/opt/mcp) to another; the model is the fake Anthropic API. What the CLI saw shows in its
stream-json `system/init` line and in the requests the fake recorded.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_runtime._gen.agentruntime.v1 import profile_pb2 as pb
from agent_runtime.agents.claude_code import CLI_ENVIRONMENT
from agent_runtime.agents.claude_profile import BUNDLED_MCP_DIR, CONFIG_DIR, MCP_CONFIG, cli_arguments, config_files
from tests.fakes.anthropic import FakeAnthropic, RecordedRequest, Turn, running_fake_anthropic, tool_use

REPO = Path(__file__).resolve().parents[3]
CLAUDE = REPO / "node_modules" / ".bin" / "claude"
ECHO_SERVER = Path(__file__).with_name("mcp_echo_server.py")
CLI_SECONDS = 90.0

pytestmark = pytest.mark.timeout(240)

REVIEWER = 'Reviews code: carefully, "quoted" # not a comment\nsecond line'


def rich_profile() -> pb.AgentProfile:
    return pb.AgentProfile(
        id="rich",
        system_prompt="APPENDED-PROMPT-MARKER",
        agent_md_file="MEMORY-MARKER: always be kind\n",
        tools=["Read", "Bash", "Agent", "mcp__echo", "mcp__bundled-echo"],
        subagents=[
            pb.Subagent(
                name="reviewer", description=REVIEWER, prompt="REVIEWER-PROMPT", tools=["Read", "Grep"], model="haiku"
            )
        ],
        commands=[pb.Command(name="deploy", prompt="COMMAND-PROMPT-MARKER")],
        skills=[
            pb.Skill(
                name="pdf-tools",
                description="Works with PDFs: SKILL-DESCRIPTION-MARKER",
                skill_md="SKILL-BODY-MARKER\n",
                supporting_files=[pb.SupportingFile(relative_path="docs/ref.md", content="reference")],
            )
        ],
        bundled_mcp_servers=[
            pb.BundledMcpServer(name="bundled-echo", start_command=f"{shlex.quote(sys.executable)} server.py bundled")
        ],
        external_mcp_servers=[
            pb.ExternalMcpServer(
                name="echo",
                type="stdio",
                command=sys.executable,
                args=[str(ECHO_SERVER), "external"],
                env={"ECHO_NOTE": "with-env"},
            )
        ],
    )


@dataclass
class Run:
    returncode: int
    lines: list[dict[str, Any]]
    stderr: str
    config_dir: Path
    workspace: Path

    def of_type(self, kind: str, subtype: str | None = None) -> dict[str, Any]:
        found = [line for line in self.lines if line.get("type") == kind and subtype in (None, line.get("subtype"))]
        assert len(found) == 1, f"expected one {kind}/{subtype} line, got {found}; stderr: {self.stderr}"
        return found[0]


def claude() -> Path:
    """The CLI `npm install` puts in the repository; its absence is a broken checkout, not a reason to skip."""
    assert CLAUDE.exists(), f"{CLAUDE} is missing: run `npm install` in {REPO}"
    return CLAUDE


def materialise(profile: pb.AgentProfile, root: Path) -> Path:
    """The profile's files under root/claude (for CONFIG_DIR) and root/mcp (for BUNDLED_MCP_DIR, where the echo
    server stands in for each bundled project); returns the config directory."""
    config_dir, mcp_dir = root / "claude", root / "mcp"
    for path, content in config_files(profile).items():
        target = config_dir / Path(path).relative_to(CONFIG_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path == MCP_CONFIG:
            content = content.replace(BUNDLED_MCP_DIR.encode(), str(mcp_dir).encode())
        target.write_bytes(content)
    for server in profile.bundled_mcp_servers:
        (mcp_dir / server.name).mkdir(parents=True)
        shutil.copy(ECHO_SERVER, mcp_dir / server.name / "server.py")
    return config_dir


def host_arguments(arguments: list[str], config_dir: Path) -> list[str]:
    return [argument.replace(CONFIG_DIR, str(config_dir)) for argument in arguments]


async def run_claude(
    root: Path,
    fake: FakeAnthropic,
    profile: pb.AgentProfile,
    *,
    budget: float = 5.0,
    turns: int = 10,
) -> Run:
    """`claude -p` with the profile's files and flags. The prompt comes last, after the profile's flags, to
    show that none of them swallows it."""
    config_dir = materialise(profile, root)
    home, workspace = root / "home", root / "workspace"
    home.mkdir()
    workspace.mkdir()
    env = {
        **CLI_ENVIRONMENT,  # as the runtime runs it
        "ANTHROPIC_BASE_URL": fake.base_url,
        "ANTHROPIC_API_KEY": fake.api_key,
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "HOME": str(home),
        "PATH": os.environ["PATH"],
    }
    command = [str(claude()), "-p", "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"]
    command += [*host_arguments(cli_arguments(profile, "m", budget, turns), config_dir), "hi"]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=workspace, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CLI_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    return Run(process.returncode or 0, lines, stderr.decode(), config_dir, workspace)


def tool_result_texts(request: RecordedRequest) -> list[str]:
    """Each tool result's text, whether its content is a string or a list of text blocks."""
    texts = []
    for result in request.tool_results:
        content = result["content"]
        texts.append(content if isinstance(content, str) else "".join(part.get("text", "") for part in content))
    return texts


async def test_the_cli_picks_up_every_piece_of_the_profile(tmp_path: Path) -> None:
    answers = [
        Turn.tool_use("Agent", {"subagent_type": "reviewer", "description": "review", "prompt": "review it"}),
        Turn.text("reviewed"),  # the subagent's answer
        Turn.tool_use("mcp__bundled-echo__echo", {"text": "one"}),
        Turn.tool_use("mcp__echo__echo", {"text": "two"}),
        Turn.tool_use("Skill", {"skill": "pdf-tools"}),
        Turn.tool_use("Skill", {"skill": "deploy"}),
        Turn.text("done"),
    ]
    async with running_fake_anthropic(answers) as fake:
        run = await run_claude(tmp_path, fake, rich_profile())
        requests = fake.message_requests()

    result = run.of_type("result")
    assert (run.returncode, result["subtype"], result["result"]) == (0, "success", "done"), run.stderr
    init = run.of_type("system", "init")
    assert init["model"] == "m"
    assert "reviewer" in init["agents"]
    assert "pdf-tools" in init["skills"]
    assert {"deploy", "pdf-tools"} <= set(init["slash_commands"])
    assert {"name": "bundled-echo", "status": "connected"} in init["mcp_servers"]
    assert {"name": "echo", "status": "connected"} in init["mcp_servers"]
    assert {"mcp__bundled-echo__echo", "mcp__echo__echo", "Skill"} <= set(init["tools"])

    main, subagent, *later = requests
    assert len(later) == 5
    assert "APPENDED-PROMPT-MARKER" in json.dumps(main.body["system"])
    seen = json.dumps(main.body)
    assert f"{run.config_dir}/CLAUDE.md" in seen and "MEMORY-MARKER: always be kind" in seen  # user memory
    assert json.dumps(f"- reviewer: {REVIEWER} (Tools: Read, Grep)")[1:-1] in seen  # frontmatter read as YAML
    assert "- pdf-tools: Works with PDFs: SKILL-DESCRIPTION-MARKER" in seen
    assert "- deploy: COMMAND-PROMPT-MARKER" in seen

    # The subagent runs on its frontmatter's model and tools, with the file's body as its prompt.
    assert "haiku" in subagent.body["model"]
    assert sorted(tool["name"] for tool in subagent.body["tools"]) == ["Grep", "Read"]
    assert "REVIEWER-PROMPT" in json.dumps(subagent.body["system"])

    last = json.dumps(later[-1].body["messages"])
    assert tool_result_texts(later[-1])[1:3] == ["bundled : one", "external with-env: two"]
    assert "SKILL-BODY-MARKER" in last and f"{run.config_dir}/skills/pdf-tools" in last
    assert (run.config_dir / "skills/pdf-tools/docs/ref.md").read_text() == "reference"
    assert "COMMAND-PROMPT-MARKER" in last
    assert sorted(run.workspace.iterdir()) == []  # nothing of the profile lands in the workspace


async def test_the_agent_has_only_the_profiles_tools(tmp_path: Path) -> None:
    profile = pb.AgentProfile(tools=["Read", "Bash"])
    written = tmp_path / "workspace" / "w.txt"
    answers = [
        Turn(
            [
                tool_use("Bash", {"command": "echo ran > bash.txt"}),
                tool_use("Write", {"file_path": str(written), "content": "x"}),
            ]
        ),
        Turn.text("done"),
    ]
    async with running_fake_anthropic(answers) as fake:
        run = await run_claude(tmp_path, fake, profile)
        requests = fake.message_requests()

    assert run.of_type("result")["subtype"] == "success", run.stderr
    assert sorted(run.of_type("system")["tools"]) == ["Bash", "Read"]
    assert sorted(tool["name"] for tool in requests[0].body["tools"]) == ["Bash", "Read"]
    bash, write = requests[1].tool_results
    assert not bash.get("is_error") and (run.workspace / "bash.txt").read_text() == "ran\n"
    assert write["is_error"] and "No such tool" in tool_result_texts(requests[1])[1] and not written.exists()


@pytest.mark.parametrize(
    ("budget", "turns", "subtype"), [(1e-6, 10, "error_max_budget_usd"), (5.0, 1, "error_max_turns")]
)
async def test_the_budget_and_turn_limits_reach_the_cli(
    tmp_path: Path, budget: float, turns: int, subtype: str
) -> None:
    async with running_fake_anthropic([Turn.tool_use("Bash", {"command": "true"})]) as fake:
        run = await run_claude(tmp_path, fake, pb.AgentProfile(), budget=budget, turns=turns)
        assert len(fake.message_requests()) == 1
    assert run.of_type("result")["subtype"] == subtype
    assert run.returncode == 1
