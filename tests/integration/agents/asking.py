"""What the human-in-the-loop tests share: a session with permission rules or client tools on any gated
architecture, the model's side of it (the agent's own tool names, the fake API that plays the model), and
the caller's side (waiting for a request, answering it, reading the workspace)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2, permissions_pb2, session_pb2
from tests.fakes import gemini
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation
from tests.integration.conftest import AUTH

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

ASK, DENY = permissions_pb2.PERMISSION_ACTION_ASK, permissions_pb2.PERMISSION_ACTION_DENY
ALLOW_IT, DENY_IT = events_pb2.APPROVAL_DECISION_ALLOW, events_pb2.APPROVAL_DECISION_DENY
GATED = ("anthropic", "claude-agent-sdk", "gemini-cli")
QUESTIONING = ("anthropic", "claude-agent-sdk")  # the Gemini CLI has no tool to ask the user with
GEMINI_TOOLS = {"Write": "write_file", "Bash": "run_shell_command", "Read": "read_file"}


@dataclass(frozen=True)
class Agent:
    """An architecture as the model sees it: its tools' names, and the fake model API behind it."""

    architecture: str
    anthropic: FakeAnthropic
    gemini: gemini.FakeGemini

    @property
    def _is_gemini(self) -> bool:
        return self.architecture == "gemini-cli"

    def tool(self, claude_name: str) -> str:
        """The agent's own name of a tool Claude Code names so."""
        return GEMINI_TOOLS[claude_name] if self._is_gemini else claude_name

    def client_tool(self, name: str) -> str:
        """The name the model calls a client tool by: the CLIs serve them as an MCP server's tools."""
        prefixes = {"claude-agent-sdk": "mcp__caller__", "gemini-cli": "mcp_caller_"}
        return prefixes.get(self.architecture, "") + name

    def script(self, *answers: tuple[str, dict[str, Any]] | str) -> None:
        """The model's next answers: a tool call (the Claude Code name of the tool, or a client tool's as the
        model calls it; its input), or text."""
        if self._is_gemini:
            self.gemini.script(
                [
                    gemini.Turn.text(answer)
                    if isinstance(answer, str)
                    else gemini.Turn.function_call(GEMINI_TOOLS.get(answer[0], answer[0]), answer[1])
                    for answer in answers
                ]
            )
            return
        self.anthropic.script(
            [Turn.text(answer) if isinstance(answer, str) else Turn.tool_use(*answer) for answer in answers]
        )

    def last_result(self) -> tuple[str, bool]:
        """The last tool result the model was sent: its text, and whether it is an error."""
        if self._is_gemini:
            response = self.gemini.generate_requests()[-1].function_responses[-1]["response"]
            return str(response.get("error", response.get("output", ""))), "error" in response
        result = self.anthropic.message_requests()[-1].tool_results[-1]
        content = result["content"]
        text = content if isinstance(content, str) else "".join(part.get("text", "") for part in content)
        return text, bool(result.get("is_error"))

    def offered(self) -> dict[str, dict[str, Any]]:
        """The tools the model was last offered, by name: their input schemas."""
        if self._is_gemini:
            body = self.gemini.generate_requests()[-1].body
            return {
                declaration["name"]: declaration.get("parametersJsonSchema") or declaration.get("parameters") or {}
                for tool in body.get("tools") or []
                for declaration in tool.get("functionDeclarations") or []
            }
        return {tool["name"]: tool["input_schema"] for tool in self.anthropic.message_requests()[-1].body["tools"]}


@pytest.fixture(params=GATED, name="agent")
def gated_agent(request: pytest.FixtureRequest, fake_model: FakeAnthropic, fake_gemini: gemini.FakeGemini) -> Agent:
    """Each gated architecture in turn (a test module takes it by importing it)."""
    return Agent(request.param, fake_model, fake_gemini)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    made = struct_pb2.Struct()
    made.update(values)
    return made


async def conversation(
    stub: Stub,
    *rules: tuple[str, permissions_pb2.PermissionAction.ValueType],
    architecture: str = "anthropic",
    profile: str = "default",
    client_tools: tuple[permissions_pb2.ClientTool, ...] = (),
) -> Conversation:
    options = session_pb2.SessionOptions(
        permissions=permissions_pb2.PermissionPolicy(
            rules=[permissions_pb2.PermissionRule(rule=rule, action=action) for rule, action in rules]
        ),
        client_tools=client_tools,
    )
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref=profile, architecture=architecture, session_options=options),
        metadata=AUTH,
    )
    return Conversation(stub, created.session_id)


async def until_asked(talk: Conversation, kind: str = "approval_requested") -> events_pb2.SessionEvent:
    seen = await talk.until(lambda event: event.HasField(kind))  # type: ignore[arg-type]
    return seen[-1]


async def respond(
    talk: Conversation, approval_id: str, decision: events_pb2.ApprovalDecision.ValueType = ALLOW_IT, **fields: Any
) -> Any:
    request = api.RespondToApprovalRequest(
        session_id=talk.session_id, approval_id=approval_id, decision=decision, **fields
    )
    return await talk.stub.RespondToApproval(request, metadata=AUTH)


async def stored(talk: Conversation, path: str) -> bytes | None:
    try:
        file = await talk.stub.GetWorkspaceFile(
            api.GetWorkspaceFileRequest(session_id=talk.session_id, path=path), metadata=AUTH
        )
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND
        return None
    return bytes(file.content)
