"""A human in the loop, on the native `anthropic` loop: calls a rule asks about wait for RespondToApproval, a
deny rule refuses without asking, the agent's questions go to the user, and client tools are answered with
SubmitToolResult; every answer is the first and only one, and what waits is closed when its turn ends."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2, permissions_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation
from tests.integration.conftest import API_KEY, AUTH, Runtime, rpc_error
from tests.support import processes
from tests.support.rpc import assert_error, field_violations

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

ASK, DENY = permissions_pb2.PERMISSION_ACTION_ASK, permissions_pb2.PERMISSION_ACTION_DENY
ALLOW_IT, DENY_IT = events_pb2.APPROVAL_DECISION_ALLOW, events_pb2.APPROVAL_DECISION_DENY


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    made = struct_pb2.Struct()
    made.update(values)
    return made


async def conversation(
    stub: Stub,
    *rules: tuple[str, permissions_pb2.PermissionAction.ValueType],
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
        api.CreateSessionRequest(agent_profile_ref=profile, architecture="anthropic", session_options=options),
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


def last_tool_result(fake: FakeAnthropic) -> dict[str, Any]:
    return fake.message_requests()[-1].tool_results[-1]


async def test_a_call_a_rule_asks_about_waits_and_a_denial_reaches_the_model(
    stub: Stub, fake_model: FakeAnthropic
) -> None:
    talk = await conversation(stub, ("Write", ASK))
    fake_model.script([Turn.tool_use("Write", {"file_path": "a.txt", "content": "draft"}), Turn.text("Understood.")])
    sent = await talk.send("Write a.txt.")
    seen = await talk.until(lambda event: event.HasField("approval_requested"))
    asked = seen[-1].approval_requested
    assert (asked.tool_name, asked.rule, asked.turn_id) == ("Write", "Write", sent.turn_id)
    assert dict(asked.input) == {"file_path": "a.txt", "content": "draft"}
    waiting = [e.block_update.block for e in seen if e.HasField("block_update")]
    assert waiting[-1].id == asked.tool_use_block_id
    assert waiting[-1].tool_use.status == blocks_pb2.TOOL_STATUS_WAITING_FOR_APPROVAL
    session = await stub.GetSession(api.GetSessionRequest(session_id=talk.session_id), metadata=AUTH)
    assert list(session.runtime.awaiting_approvals) == [asked.approval_id] and session.runtime.turn_running

    answered = await respond(talk, asked.approval_id, DENY_IT, message="not now", responder="ana")
    assert (answered.resolution.decision, answered.resolution.answered_by) == (DENY_IT, "ana")
    events = await talk.until_turn_completed()
    resolved = next(e.approval_resolved for e in events if e.HasField("approval_resolved"))
    assert (resolved.approval_id, resolved.message) == (asked.approval_id, "not now")
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    refusal = last_tool_result(fake_model)
    assert refusal["is_error"] and "not now" in refusal["content"]
    assert await stored(talk, "a.txt") is None, "nothing was written"


async def test_an_allowed_call_runs_with_the_callers_input_and_a_remembered_one_is_not_asked_again(
    stub: Stub, fake_model: FakeAnthropic
) -> None:
    talk = await conversation(stub, ("Write", ASK))
    write = {"file_path": "a.txt", "content": "draft"}
    fake_model.script([Turn.tool_use("Write", write), Turn.tool_use("Write", write), Turn.text("Written twice.")])
    await talk.send("Write a.txt twice.")
    asked = (await until_asked(talk)).approval_requested
    await respond(
        talk, asked.approval_id, updated_input=struct({"file_path": "a.txt", "content": "edited"}), remember=True
    )
    events = await talk.until_turn_completed()
    assert not any(e.HasField("approval_requested") for e in events), "the same call again is not asked"
    results = [r["content"] for r in fake_model.message_requests()[-1].tool_results]
    assert results == ["Wrote 6 bytes to a.txt", "Wrote 5 bytes to a.txt"], "edited, then the agent's own"
    assert await stored(talk, "a.txt") == b"draft"


async def test_a_deny_rule_refuses_without_asking(stub: Stub, fake_model: FakeAnthropic) -> None:
    talk = await conversation(stub, ("Bash(rm:*)", DENY))
    fake_model.script([Turn.tool_use("Bash", {"command": "rm -rf kept"}), Turn.text("Refused, then.")])
    await talk.send("Remove it.")
    events = await talk.until_turn_completed()
    assert not any(e.HasField("approval_requested") for e in events)
    refusal = last_tool_result(fake_model)
    assert refusal["is_error"] and "Bash(rm:*)" in refusal["content"]


async def test_the_agents_question_is_answered_by_the_user(stub: Stub, fake_model: FakeAnthropic) -> None:
    talk = await conversation(stub, profile="asking")
    question = {"question": "Which color?", "header": "Color", "options": [{"label": "red"}, {"label": "blue"}]}
    fake_model.script([Turn.tool_use("AskUserQuestion", {"questions": [question]}), Turn.text("Blue it is.")])
    await talk.send("Paint it.")
    asked = (await until_asked(talk)).approval_requested
    assert asked.tool_name == "AskUserQuestion" and asked.rule == ""
    assert [(q.question, [o.label for o in q.options]) for q in asked.questions] == [("Which color?", ["red", "blue"])]
    assert "AskUserQuestion" in [t["name"] for t in fake_model.message_requests()[-1].body["tools"]]
    await respond(talk, asked.approval_id, answers={"Which color?": "blue"})
    await talk.until_turn_completed()
    answer = last_tool_result(fake_model)
    assert not answer["is_error"] and "'Which color?' = 'blue'" in answer["content"]


async def test_a_client_tool_is_run_by_the_caller(stub: Stub, fake_model: FakeAnthropic) -> None:
    lookup = permissions_pb2.ClientTool(
        name="lookup_order",
        description="Finds an order.",
        input_schema=struct({"type": "object", "properties": {"order": {"type": "string"}}}),
    )
    talk = await conversation(stub, client_tools=(lookup,))
    fake_model.script([Turn.tool_use("lookup_order", {"order": "42"}), Turn.text("It shipped.")])
    await talk.send("Where is order 42?")
    call = (await until_asked(talk, "client_tool_call")).client_tool_call
    assert (call.tool_name, dict(call.input)) == ("lookup_order", {"order": "42"})
    offered = {t["name"]: t for t in fake_model.message_requests()[-1].body["tools"]}
    assert offered["lookup_order"]["input_schema"]["properties"] == {"order": {"type": "string"}}
    shipped = struct_pb2.Value(struct_value=struct({"status": "shipped"}))
    result = await stub.SubmitToolResult(
        api.SubmitToolResultRequest(session_id=talk.session_id, call_id=call.call_id, output=shipped), metadata=AUTH
    )
    assert result.result.answered_by == "caller"
    await talk.until_turn_completed()
    assert '"shipped"' in last_tool_result(fake_model)["content"]


async def test_an_answer_is_taken_once_and_a_wrong_one_changes_nothing(stub: Stub, fake_model: FakeAnthropic) -> None:
    talk = await conversation(stub, ("Write", ASK))
    fake_model.script([Turn.tool_use("Write", {"file_path": "b.txt", "content": "b"}), Turn.text("Done.")])
    await talk.send("Write b.txt.")
    asked = (await until_asked(talk)).approval_requested

    unknown = await rpc_error(respond(talk, "approval-nothing"))
    assert_error(unknown, grpc.StatusCode.NOT_FOUND, "APPROVAL_NOT_FOUND")
    bad = await rpc_error(respond(talk, asked.approval_id, events_pb2.APPROVAL_DECISION_UNSPECIFIED))
    assert list(field_violations(bad)) == ["decision"]
    bad = await rpc_error(respond(talk, asked.approval_id, DENY_IT, remember=True))
    assert field_violations(bad) == {"remember": "INVALID_DECISION"}

    racing = await asyncio.gather(
        respond(talk, asked.approval_id, ALLOW_IT), respond(talk, asked.approval_id, DENY_IT), return_exceptions=True
    )
    refused = [r for r in racing if isinstance(r, grpc.aio.AioRpcError)]
    assert len(refused) == 1, "the first answer wins"
    assert_error(refused[0], grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_CLOSED")
    events = await talk.until_turn_completed()
    assert len([e for e in events if e.HasField("approval_resolved")]) == 1
    late = await rpc_error(respond(talk, asked.approval_id, DENY_IT))
    assert_error(late, grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_CLOSED")


async def test_an_interrupt_while_waiting_ends_the_turn_and_closes_what_waits(
    stub: Stub, fake_model: FakeAnthropic
) -> None:
    talk = await conversation(stub, ("Write", ASK))
    fake_model.script([Turn.tool_use("Write", {"file_path": "c.txt", "content": "c"})])
    await talk.send("Write c.txt.")
    asked = (await until_asked(talk)).approval_requested
    interrupted = await stub.InterruptSession(api.InterruptSessionRequest(session_id=talk.session_id), metadata=AUTH)
    assert interrupted.interrupted
    events = await talk.until_turn_completed()
    resolved = next(e.approval_resolved for e in events if e.HasField("approval_resolved"))
    assert (resolved.decision, resolved.answered_by) == (DENY_IT, "interrupt")
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_INTERRUPTED
    late = await rpc_error(respond(talk, asked.approval_id))
    assert_error(late, grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_CLOSED")
    assert await stored(talk, "c.txt") is None


async def test_a_cli_architecture_refuses_rules_it_cannot_apply(stub: Stub) -> None:
    options = session_pb2.SessionOptions(
        permissions=permissions_pb2.PermissionPolicy(rules=[permissions_pb2.PermissionRule(rule="Write", action=ASK)])
    )
    refused = await rpc_error(
        stub.CreateSession(
            api.CreateSessionRequest(
                agent_profile_ref="default", architecture="claude-agent-sdk", session_options=options
            ),
            metadata=AUTH,
        )
    )
    assert field_violations(refused) == {"session_options.permissions": "PERMISSIONS_UNSUPPORTED"}
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="asking", architecture="gemini-cli"), metadata=AUTH
    )
    unsent = await rpc_error(
        stub.SendMessage(api.SendMessageRequest(session_id=created.session_id, content="hi"), metadata=AUTH)
    )
    assert_error(unsent, grpc.StatusCode.FAILED_PRECONDITION, "PERMISSIONS_UNSUPPORTED")


@pytest.mark.parametrize("value", ["Bash(", ""])
async def test_a_rule_that_is_not_one_is_refused_by_field(stub: Stub, value: str) -> None:
    bad = await rpc_error(conversation(stub, (value, ASK)))
    assert field_violations(bad) == {"session_options.permissions.rules[0].rule": "INVALID_RULE"}


def on_a_terminal(command: list[str], env: dict[str, str], typed: bytes, after: bytes) -> tuple[int, str]:
    """Runs the command with a pseudo-terminal as its stdin, stdout and stderr; types `typed` once it has
    printed `after`; its exit code and everything it printed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True)
    os.close(terminal)
    printed, answered = b"", False
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the command ended and the terminal with it
            break
        if not chunk:
            break
        printed += chunk
        if not answered and after in printed:
            os.write(controller, typed)
            answered = True
    os.close(controller)
    return process.wait(timeout=60), printed.decode(errors="replace")


async def test_sessions_send_asks_on_a_terminal(runtime: Runtime, stub: Stub, fake_model: FakeAnthropic) -> None:
    talk = await conversation(stub, ("Write", ASK))
    fake_model.script([Turn.tool_use("Write", {"file_path": "t.txt", "content": "t"}), Turn.text("Not written.")])
    env = {**os.environ, "AGENT_RUNTIME_GRPC_ADDRESS": runtime.address, "AGENT_RUNTIME_API_KEY": API_KEY}
    command = [processes.CLI, "sessions", "send", talk.session_id, "Write t.txt."]
    code, printed = await asyncio.to_thread(on_a_terminal, command, env, b"d\n", b"allow [A]lways? ")
    assert code == 0, printed
    assert '? Write {"content": "t", "file_path": "t.txt"} (rule Write)' in printed
    assert "Not written." in printed
    assert last_tool_result(fake_model)["is_error"] and await stored(talk, "t.txt") is None
