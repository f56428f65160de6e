"""Between an agent and its tools, for one turn: the session's policy decides each call (it runs, waits for a
caller's approval, or is refused), the agent's questions go to the caller, and the calls of client tools
are answered by the caller. With no rules and no client tools every call runs, as it always did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2

from agent_runtime._gen.agentruntime.v1 import events_pb2, permissions_pb2
from agent_runtime.permissions import rules
from agent_runtime.permissions.awaited import AwaitedInput

ASK_USER_QUESTION = "AskUserQuestion"
# The native loop's question tool, in Claude Code's shape, offered when a profile lists it among its tools.
ASK_USER_QUESTION_TOOL = {
    "name": ASK_USER_QUESTION,
    "description": "Ask the user questions and wait for the answers; offer the likely answers as options.",
    "input_schema": {
        "type": "object",
        "properties": {
            "questions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "question": {"type": "string"},
                        "header": {"type": "string"},
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"label": {"type": "string"}, "description": {"type": "string"}},
                                "required": ["label"],
                            },
                        },
                        "multiSelect": {"type": "boolean"},
                    },
                    "required": ["question"],
                },
            }
        },
        "required": ["questions"],
    },
}
ALLOWED = events_pb2.APPROVAL_DECISION_ALLOW


@dataclass(frozen=True)
class CallIds:
    """A tool call's ids: its tool_use block's, and the model's own (tool_use_id)."""

    block_id: str
    tool_use_id: str


@dataclass(frozen=True)
class Ruling:
    """What becomes of a call: it runs, with this input, or it is refused, and the agent is told `message`."""

    runs: bool
    tool_input: Mapping[str, Any]
    message: str = ""


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _question(asked: Mapping[str, Any]) -> permissions_pb2.Question:
    """A question as AskUserQuestion's input gives it."""
    options = [o for o in asked.get("options", []) if isinstance(o, Mapping)]
    return permissions_pb2.Question(
        question=str(asked.get("question", "")),
        header=str(asked.get("header", "")),
        options=[
            permissions_pb2.QuestionOption(label=str(o.get("label", "")), description=str(o.get("description", "")))
            for o in options
        ],
        multi_select=bool(asked.get("multiSelect", False)),
    )


def _same_call(tool_name: str, tool_input: Mapping[str, Any]) -> str:
    return tool_name + json.dumps(tool_input, sort_keys=True)


class TurnGate:
    def __init__(
        self,
        policy: rules.Policy,
        client_tools: Sequence[permissions_pb2.ClientTool],
        awaited: AwaitedInput,
        remembered: set[str],
        turn_id: str,
    ) -> None:
        """`remembered`: the calls a caller allowed "for the rest of the session", kept by the session."""
        self._policy = policy
        self._client_tools = {tool.name: tool for tool in client_tools}
        self._awaited = awaited
        self._remembered = remembered
        self._turn_id = turn_id

    def client_tool_definitions(self) -> list[dict[str, Any]]:
        """The client tools as the Messages API takes them."""
        return [
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": json_format.MessageToDict(tool.input_schema) or {"type": "object"},
            }
            for tool in self._client_tools.values()
        ]

    def is_client_tool(self, tool_name: str) -> bool:
        return tool_name in self._client_tools

    @property
    def has_client_tools(self) -> bool:
        return bool(self._client_tools)

    @property
    def allows_everything(self) -> bool:
        """No call is refused or asked about."""
        return self._policy.allows_everything

    def allows(self, tool_name: str, tool_input: Mapping[str, Any]) -> bool:
        """Whether the call runs without asking anyone."""
        verdict = self._policy.judge(tool_name, tool_input)
        return verdict.action == rules.ALLOW or _same_call(tool_name, tool_input) in self._remembered

    async def rule(
        self, call: CallIds, tool_name: str, tool_input: Mapping[str, Any], waiting: Callable[[], None]
    ) -> Ruling:
        """Whether the call runs, and with what input: by the first rule that matches it, asking the caller
        where that rule says to (`waiting` is called then, before the turn waits)."""
        if self.allows(tool_name, tool_input):
            return Ruling(True, tool_input)
        verdict = self._policy.judge(tool_name, tool_input)
        if verdict.action == rules.DENY:
            why = f"the rule {verdict.rule!r}" if verdict.rule else "this session's policy, which allows no other calls"
            return Ruling(False, tool_input, f"Refused: {why} does not allow this {tool_name} call.")
        waiting()
        resolved = await self._awaited.approval(
            events_pb2.ApprovalRequested(
                turn_id=self._turn_id,
                tool_use_block_id=call.block_id,
                tool_use_id=call.tool_use_id,
                tool_name=tool_name,
                input=_struct(tool_input),
                rule=verdict.rule,
            )
        )
        if resolved.decision != ALLOWED:
            said = f": {resolved.message}" if resolved.message else "."
            return Ruling(False, tool_input, f"The user did not allow this {tool_name} call{said}")
        if resolved.remember:
            self._remembered.add(_same_call(tool_name, tool_input))
        updated = json_format.MessageToDict(resolved.updated_input) if resolved.HasField("updated_input") else None
        return Ruling(True, updated or tool_input, resolved.message)

    async def ask_user(
        self, call: CallIds, tool_input: Mapping[str, Any], waiting: Callable[[], None]
    ) -> events_pb2.ApprovalResolved:
        """The user's answers to the agent's questions (AskUserQuestion's input), or a refusal to answer."""
        questions = [_question(asked) for asked in tool_input.get("questions", []) if isinstance(asked, Mapping)]
        waiting()
        return await self._awaited.approval(
            events_pb2.ApprovalRequested(
                turn_id=self._turn_id,
                tool_use_block_id=call.block_id,
                tool_use_id=call.tool_use_id,
                tool_name=ASK_USER_QUESTION,
                input=_struct(tool_input),
                questions=questions,
            )
        )

    async def call_client_tool(
        self, call: CallIds, tool_name: str, tool_input: Mapping[str, Any], waiting: Callable[[], None]
    ) -> tuple[struct_pb2.Value, bool]:
        """What the caller's tool returned, and whether it is an error."""
        waiting()
        result = await self._awaited.tool_call(
            events_pb2.ClientToolCall(
                turn_id=self._turn_id,
                tool_use_block_id=call.block_id,
                tool_use_id=call.tool_use_id,
                tool_name=tool_name,
                input=_struct(tool_input),
            )
        )
        return result.output, result.is_error


def answer_text(resolved: events_pb2.ApprovalResolved) -> tuple[str, bool]:
    """The user's answers to the agent's questions as a tool's result, and whether it is an error."""
    if resolved.decision != ALLOWED:
        said = f": {resolved.message}" if resolved.message else "."
        return f"The user did not answer{said}", True
    answered = "; ".join(f"{question!r} = {answer!r}" for question, answer in resolved.answers.items())
    return f"The user answered: {answered or resolved.message or '(nothing)'}", False


def output_text(output: struct_pb2.Value) -> str:
    """A client tool's output as the model reads it: a string as it is, anything else as JSON."""
    return output.string_value if output.HasField("string_value") else json_format.MessageToJson(output)
