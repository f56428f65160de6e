"""The `gemini-cli` architecture: the Gemini CLI in the sandbox, one `gemini -p` per turn.

Its `-o stream-json` output becomes block events (gemini_stream). The CLI keeps its transcript under its
home folder inside the sandbox; the session's id is the CLI's session id. Before a turn that continues the
conversation the stored transcript is put back, cleaned for --resume (gemini_transcript.resumable), so a new
sandbox resumes it as the same one would. The profile becomes the CLI's user settings: API-key auth, no
telemetry, a bounded number of API attempts, the MCP servers, GEMINI.md (the memory file and the system
prompt) and the commands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import grpc

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, profile_pb2
from agent_runtime.agents import claude_profile, gemini_control, gemini_transcript, node_stdio
from agent_runtime.agents.base import Transcripts, TurnContext
from agent_runtime.agents.cli_process import StdinChannel, run_cli
from agent_runtime.agents.gemini_control import GeminiControl
from agent_runtime.agents.gemini_stream import GeminiStream
from agent_runtime.agents.sandbox_tree import read_tree, remove_matching, write_tree
from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import Sandbox

HOME = "/tmp/gemini"
CONFIG_DIR = f"{HOME}/.gemini"
# Where the CLI keeps the chats of a session run with cwd /workspace ("workspace" is the project's name).
CHATS_DIR = f"{CONFIG_DIR}/tmp/workspace/chats"
SETTINGS_PATH = f"{CONFIG_DIR}/settings.json"
BRIDGE = {gemini_control.BRIDGE_PATH: resources.files(__package__).joinpath("gemini_bridge.mjs").read_bytes()}
CLI_ENVIRONMENT = {
    "GEMINI_CLI_HOME": HOME,
    "GEMINI_CLI_TRUST_WORKSPACE": "true",
    "TMPDIR": "/tmp",
    **node_stdio.ENVIRONMENT,
}
DEFAULT_MODEL = "gemini-2.5-flash"  # without -m the CLI first asks a router model which one to use
DEFAULT_APPROVAL_MODE = "yolo"
# The CLI's own default is 10 attempts with backoff up to 30 s: a failing API would hold a turn for minutes.
MAX_API_ATTEMPTS = 3


def config_files(profile: profile_pb2.AgentProfile, added: Mapping[str, Any] | None = None) -> dict[str, bytes]:
    """The CLI's settings and the profile's files; `added`: what the turn adds to the settings (gemini_control)."""
    added = dict(added or {})
    settings: dict[str, Any] = {
        # GOOGLE_GEMINI_BASE_URL alone would make the CLI pick "gateway" auth, which headless runs refuse.
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"maxAttempts": MAX_API_ATTEMPTS},
    }
    servers = {name: _gemini_mcp_server(server) for name, server in claude_profile.mcp_servers(profile).items()}
    if servers := servers | added.pop("mcpServers", {}):
        settings["mcpServers"] = servers
    files = {SETTINGS_PATH: json.dumps(settings | added, indent=2).encode()}
    if memory := "\n\n".join(part for part in (profile.agent_md_file, profile.system_prompt) if part):
        files[f"{CONFIG_DIR}/GEMINI.md"] = memory.encode()
    for command in profile.commands:
        # A TOML basic string takes JSON's escapes.
        files[f"{CONFIG_DIR}/commands/{command.name}.toml"] = f"prompt = {json.dumps(command.prompt)}\n".encode()
    return files


def _gemini_mcp_server(server: dict[str, Any]) -> dict[str, Any]:
    """A server as Claude Code's MCP config has it, as the Gemini CLI's settings take it."""
    if server["type"] == "stdio":
        return {"command": server["command"], "args": server["args"], "env": server["env"]}
    return {"httpUrl" if server["type"] == "http" else "url": server["url"], "headers": server["headers"]}


class GeminiCliAgent:
    def __init__(self, profile: profile_pb2.AgentProfile, session_id: str, stored: Transcripts) -> None:
        self._profile = profile
        self._session_id = session_id
        self._transcripts = stored
        self._sandbox: Sandbox | None = None
        self._settings = b""  # as written in the sandbox

    @property
    def _chat_suffix(self) -> str:
        """The CLI names a session's chat file session-<time>-<first 8 characters of its id>.jsonl."""
        return f"-{self._session_id[:8]}.jsonl"

    async def prepare(self, sandbox: Sandbox) -> None:
        files = config_files(self._profile)
        await write_tree(sandbox, files | node_stdio.FILES | BRIDGE)
        self._settings = files[SETTINGS_PATH]
        self._sandbox = sandbox

    async def _settle_settings(self, sandbox: Sandbox, added: Mapping[str, Any]) -> None:
        """The settings as the turn needs them: with or without the hook and the client tools' server."""
        wanted = config_files(self._profile, added)[SETTINGS_PATH]
        if wanted != self._settings:
            await write_tree(sandbox, {SETTINGS_PATH: wanted})
            self._settings = wanted

    async def _restore_transcript(self, sandbox: Sandbox) -> None:
        """The stored transcript as the only chat of the session, under a name older than any the CLI makes."""
        await remove_matching(sandbox, CHATS_DIR, f"session-*{self._chat_suffix}")
        cleaned = gemini_transcript.resumable(self._transcripts.main).encode()
        await write_tree(sandbox, {f"{CHATS_DIR}/session-2000-01-01T00-00{self._chat_suffix}": cleaned})

    async def run(self, message: blocks_pb2.ConversationBlock, turn: TurnContext) -> None:
        sandbox = await turn.sandbox()
        options = turn.options
        continuing = ["--session-id", self._session_id]
        if self._transcripts.main:
            await self._restore_transcript(sandbox)
            continuing = ["--resume", self._session_id]
        model = options.model or DEFAULT_MODEL
        argv = [
            "gemini",
            "--model", model,
            "--approval-mode", options.gemini_cli.approval_mode or DEFAULT_APPROVAL_MODE,
            "--output-format", "stream-json",
            *continuing,
            "--prompt", "",  # the message comes on stdin: an argument is limited to 128 KiB
        ]  # fmt: skip
        stream = GeminiStream(turn.emitter, model)
        environment = {**CLI_ENVIRONMENT, **turn.environment()}
        added = gemini_control.settings(turn.gate)
        await self._settle_settings(sandbox, added)
        if not added:  # nothing to ask the runtime about: the CLI runs as it always did
            ended = await run_cli(sandbox, argv, environment, message.user_message.content.encode(), stream)
        else:
            channel = StdinChannel()
            control = GeminiControl(stream, turn.gate, channel, message.user_message.content)
            control.start()
            try:
                ended = await run_cli(sandbox, gemini_control.bridged(argv), environment, channel, control)
            finally:
                await control.close()
        if stream.result is None or not stream.result.ok:
            reason = stream.result.error_message if stream.result else ended.stderr[-1000:]
            raise ApiError(
                grpc.StatusCode.INTERNAL,
                "AGENT_FAILED",
                f"Gemini CLI failed ({ended.returncode}): {reason or 'no output'}",
            )

    async def transcripts(self) -> Transcripts:
        """The session's chat as the sandbox holds it now (the fullest, should the CLI have begun another)."""
        if self._sandbox is None:
            return self._transcripts
        chats = [
            raw.decode(errors="replace")
            for name, raw in (await read_tree(self._sandbox, CHATS_DIR)).items()
            if name.endswith(self._chat_suffix)
        ]
        if chats:
            self._transcripts = Transcripts(max(chats, key=len))
        return self._transcripts
