"""A profile as the Gemini CLI's user configuration (gemini_cli.config_files)."""

from __future__ import annotations

import json
import tomllib

from agent_runtime._gen.agentruntime.v1 import profile_pb2 as pb
from agent_runtime.agents.gemini_cli import CONFIG_DIR, MAX_API_ATTEMPTS, config_files


def test_settings_choose_api_key_auth_bounded_attempts_and_no_telemetry() -> None:
    files = config_files(pb.AgentProfile())
    assert list(files) == [f"{CONFIG_DIR}/settings.json"], "an empty profile adds nothing but the settings"
    settings = json.loads(files[f"{CONFIG_DIR}/settings.json"])
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert settings["general"]["maxAttempts"] == MAX_API_ATTEMPTS
    assert settings["telemetry"]["enabled"] is False and settings["privacy"]["usageStatisticsEnabled"] is False
    assert "mcpServers" not in settings


def test_memory_system_prompt_commands_and_mcp_servers() -> None:
    tricky = 'Say "hi"\\ then\nstop.'
    profile = pb.AgentProfile(
        agent_md_file="Remember tea.",
        system_prompt="Be brief.",
        commands=[pb.Command(name="greet", prompt=tricky)],
        bundled_mcp_servers=[pb.BundledMcpServer(name="local", start_command="node server.js --port 1")],
        external_mcp_servers=[
            pb.ExternalMcpServer(name="tool", type="stdio", command="tool", args=["-v"], env={"A": "1"}),
            pb.ExternalMcpServer(name="events", type="sse", url="https://e.example/sse", headers={"K": "v"}),
            pb.ExternalMcpServer(name="api", type="http", url="https://a.example/mcp"),
        ],
    )
    files = config_files(profile)
    assert files[f"{CONFIG_DIR}/GEMINI.md"] == b"Remember tea.\n\nBe brief."
    assert tomllib.loads(files[f"{CONFIG_DIR}/commands/greet.toml"].decode()) == {"prompt": tricky}
    servers = json.loads(files[f"{CONFIG_DIR}/settings.json"])["mcpServers"]
    assert servers == {
        "local": {"command": "node", "args": ["/opt/mcp/local/server.js", "--port", "1"], "env": {}},
        "tool": {"command": "tool", "args": ["-v"], "env": {"A": "1"}},
        "events": {"url": "https://e.example/sse", "headers": {"K": "v"}},
        "api": {"httpUrl": "https://a.example/mcp", "headers": {}},
    }
