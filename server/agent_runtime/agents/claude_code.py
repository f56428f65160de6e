"""The `claude-agent-sdk` architecture: the Claude Code CLI in the sandbox, one `claude -p` per turn.

The message goes in as a stream-json line on stdin (with the user_message block's uuid, so the CLI's
transcript names it as the stream did) and the CLI's stream-json output becomes block events
(claude_stream). Claude Code keeps its own transcript in its config folder inside the sandbox; the
session's id is Claude's session id, so a new sandbox gets the stored transcripts back and the next turn
resumes the same conversation. The profile becomes Claude Code's user configuration (claude_profile).
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, profile_pb2
from agent_runtime.agents import claude_profile, claude_transcript
from agent_runtime.agents.anthropic_transcript import user_content
from agent_runtime.agents.base import Transcripts, TurnContext
from agent_runtime.agents.claude_control import ClaudeControl
from agent_runtime.agents.claude_stream import ClaudeStream
from agent_runtime.agents.cli_process import CliExit, StdinChannel, run_cli
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.agents.sandbox_tree import read_text, read_tree, write_tree
from agent_runtime.errors import ApiError
from agent_runtime.permissions.gate import ASK_USER_QUESTION
from agent_runtime.sandboxes.base import Sandbox

# Where Claude Code keeps the transcripts of a session run with cwd /workspace.
PROJECT_DIR = f"{claude_profile.CONFIG_DIR}/projects/-workspace"
# Headless, inside a sandbox that is the permission boundary, and quiet: no telemetry, no updates, no
# calls beyond the model API.
CLI_ENVIRONMENT = {
    "CLAUDE_CONFIG_DIR": claude_profile.CONFIG_DIR,
    "IS_SANDBOX": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_BUG_COMMAND": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
DEFAULT_MAX_BUDGET_USD = 5.0  # per turn, as the seed's cap; profiles and sessions may set their own


class ClaudeCodeAgent:
    def __init__(self, profile: profile_pb2.AgentProfile, session_id: str, stored: Transcripts) -> None:
        if problems := claude_profile.problems(profile):  # a storage server that does not check profiles
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "PROFILE_INVALID",
                f"agent profile {profile.id!r} cannot be set up for Claude Code: {'; '.join(problems)}",
            )
        self._profile = profile
        self._session_id = session_id
        self._transcripts = stored
        self._sandbox: Sandbox | None = None
        self._accepted_at: dict[str, str] = {}  # the uuid of each message this agent sent: when it was accepted

    @property
    def _main_path(self) -> str:
        return f"{self._session_id}.jsonl"

    def _subagent_path(self, subagent_id: str) -> str:
        return f"{self._session_id}/subagents/{subagent_id}.jsonl"

    async def prepare(self, sandbox: Sandbox) -> None:
        files = claude_profile.config_files(self._profile)
        stored = {self._main_path: self._transcripts.main} if self._transcripts.main else {}
        stored |= {self._subagent_path(i): raw for i, raw in self._transcripts.subagents.items()}
        files |= {f"{PROJECT_DIR}/{path}": raw.encode() for path, raw in stored.items()}
        await write_tree(sandbox, files)
        self._sandbox = sandbox

    def _answered(self, turn: TurnContext) -> bool:
        """Whether the turn needs the control protocol: calls the gate decides, the caller's tools, or the
        agent's questions (Claude Code offers AskUserQuestion only then). Otherwise the CLI runs as it always
        did: every call allowed, nothing to answer."""
        asks_user = ASK_USER_QUESTION in self._profile.tools
        return not turn.gate.allows_everything or turn.gate.has_client_tools or asks_user

    def _argv(self, turn: TurnContext, answered: bool) -> list[str]:
        options = turn.options
        budget = options.claude_agent_sdk.max_budget_usd or self._profile.max_budget_usd or DEFAULT_MAX_BUDGET_USD
        continuing = ["--resume", self._session_id] if self._transcripts.main else ["--session-id", self._session_id]
        return [
            "claude",
            "-p",
            "--input-format=stream-json",
            "--output-format=stream-json",
            "--verbose",
            "--include-partial-messages",
            *_permission_arguments(answered, turn.gate.allows_everything),
            *continuing,
            *claude_profile.cli_arguments(self._profile, options.model, budget, options.claude_agent_sdk.max_turns),
        ]

    async def run(self, message: blocks_pb2.ConversationBlock, turn: TurnContext) -> None:
        sandbox = await turn.sandbox()
        uuid = message.id.removeprefix("user-")
        self._accepted_at[uuid] = message.timestamp.ToJsonString()
        line = {
            "type": "user",
            "message": {"role": "user", "content": user_content(message.user_message)},
            "uuid": uuid,
            "parent_tool_use_id": None,
            "session_id": self._session_id,
        }
        stream = ClaudeStream(turn.emitter)
        environment = {**CLI_ENVIRONMENT, **turn.environment()}
        if not self._answered(turn):
            argv = self._argv(turn, answered=False)
            ended = await run_cli(sandbox, argv, environment, json.dumps(line).encode() + b"\n", stream)
        else:
            ended = await self._run_answered(sandbox, turn, environment, line, stream)
        await self._show_subagents(stream, sandbox, turn.emitter)
        _raise_if_failed(stream.result, ended)

    async def _run_answered(
        self,
        sandbox: Sandbox,
        turn: TurnContext,
        environment: dict[str, str],
        line: dict[str, Any],
        stream: ClaudeStream,
    ) -> CliExit:
        """The CLI asks the runtime about its calls while it runs (claude_control)."""
        if turn.gate.has_client_tools:
            environment["ENABLE_TOOL_SEARCH"] = "false"  # the caller's tools in view, not behind a search
        channel = StdinChannel()
        control = ClaudeControl(stream, turn.gate, channel, line)
        control.start()
        try:
            ended = await run_cli(sandbox, self._argv(turn, answered=True), environment, channel, control)
        finally:
            await control.close()
        control.raise_if_refused()
        return ended

    async def _show_subagents(self, stream: ClaudeStream, sandbox: Sandbox, emitter: BlockEmitter) -> None:
        """The blocks of the subagents that ran, from their transcripts, which are complete once the CLI is."""
        for tool_use_id, agent_id in stream.ended_subagents.items():
            raw = await read_text(sandbox, f"{PROJECT_DIR}/{self._subagent_path(f'agent-{agent_id}')}")
            subagent = emitter.conversation(tool_use_id)
            for block in claude_transcript.subagent_blocks(raw):
                if block.id not in stream.shown:
                    subagent.whole(block)

    async def transcripts(self) -> Transcripts:
        """Claude Code's transcripts as the sandbox holds them now."""
        if self._sandbox is None:
            return self._transcripts
        files = await read_tree(self._sandbox, PROJECT_DIR)
        main = files.get(self._main_path, b"").decode(errors="replace")
        # The CLI stamps a message with when it read it; the stream said when it was accepted. Stored with
        # the stream's time, GetSession shows the message as the stream did.
        main = claude_transcript.with_times(main, self._accepted_at)
        subagents = {
            path.rsplit("/", 1)[-1].removesuffix(".jsonl"): raw.decode(errors="replace")
            for path, raw in files.items()
            if path.rsplit("/", 1)[-1].startswith("agent-") and path.endswith(".jsonl")
        }
        if main:  # the CLI has written its transcript: the next turn resumes it
            self._transcripts = Transcripts(main, subagents)
        return self._transcripts


def _permission_arguments(answered: bool, allows_everything: bool) -> list[str]:
    """Every call runs without a prompt, or each prompt is asked of the runtime on stdout (the hook then
    sends every call the policy does not allow to the prompt)."""
    if not answered:
        return ["--dangerously-skip-permissions"]
    mode = ["--dangerously-skip-permissions"] if allows_everything else ["--permission-mode", "default"]
    return ["--permission-prompt-tool", "stdio", *mode]


def _raise_if_failed(result: dict[str, Any] | None, ended: CliExit) -> None:
    if result is not None and not result.get("is_error"):
        return
    if result is not None:
        message = str(result.get("result") or result.get("subtype") or "the turn failed")
        raise ApiError(grpc.StatusCode.INTERNAL, "AGENT_FAILED", f"Claude Code: {message}")
    raise ApiError(
        grpc.StatusCode.INTERNAL,
        "AGENT_FAILED",
        f"Claude Code exited ({ended.returncode}) without a result: {ended.stderr[-1000:] or 'no output'}",
    )
