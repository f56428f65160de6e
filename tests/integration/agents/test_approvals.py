"""A human in the loop, on every architecture that applies the rules: calls a rule asks about wait for
RespondToApproval, a deny rule refuses without asking, the agent's questions go to the user, and client tools
are answered with SubmitToolResult; every answer is the first and only one, and what waits is closed when its
turn ends."""

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
from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2, permissions_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.asking import (
    ALLOW_IT,
    ASK,
    DENY,
    DENY_IT,
    QUESTIONING,
    Agent,
    conversation,
    gated_agent,  # noqa: F401 (the `agent` fixture)
    respond,
    stored,
    struct,
    until_asked,
)
from tests.integration.conftest import API_KEY, AUTH, Runtime, rpc_error
from tests.support import processes
from tests.support.rpc import assert_error, field_violations

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

ALLOW = permissions_pb2.PERMISSION_ACTION_ALLOW


def last_tool_result(fake: FakeAnthropic) -> dict[str, Any]:
    return fake.message_requests()[-1].tool_results[-1]


async def test_a_call_a_rule_asks_about_waits_and_a_denial_reaches_the_model(stub: Stub, agent: Agent) -> None:
    talk = await conversation(stub, ("Write", ASK), architecture=agent.architecture)
    write = {"file_path": "/workspace/a.txt", "content": "draft"}
    agent.script(("Write", write), "Understood.")
    sent = await talk.send("Write a.txt.")
    seen = await talk.until(lambda event: event.HasField("approval_requested"))
    asked = seen[-1].approval_requested
    assert (asked.tool_name, asked.rule, asked.turn_id) == (agent.tool("Write"), "Write", sent.turn_id)
    assert dict(asked.input) == write
    waiting = [e.block_update.block for e in seen if e.HasField("block_update")]
    assert (waiting[-1].id, waiting[-1].tool_use.tool_use_id) == (asked.tool_use_block_id, asked.tool_use_id)
    assert asked.tool_use_id and waiting[-1].tool_use.status == blocks_pb2.TOOL_STATUS_WAITING_FOR_APPROVAL
    session = await stub.GetSession(api.GetSessionRequest(session_id=talk.session_id), metadata=AUTH)
    assert list(session.runtime.awaiting_approvals) == [asked.approval_id] and session.runtime.turn_running

    answered = await respond(talk, asked.approval_id, DENY_IT, message="not now", responder="ana")
    assert (answered.resolution.decision, answered.resolution.answered_by) == (DENY_IT, "ana")
    events = await talk.until_turn_completed()
    resolved = next(e.approval_resolved for e in events if e.HasField("approval_resolved"))
    assert (resolved.approval_id, resolved.message) == (asked.approval_id, "not now")
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    refusal, is_error = agent.last_result()
    assert is_error and "not now" in refusal
    assert await stored(talk, "a.txt") is None, "nothing was written"


async def test_an_allowed_call_runs_with_the_callers_input_and_a_remembered_one_is_not_asked_again(
    stub: Stub, agent: Agent
) -> None:
    talk = await conversation(stub, ("Bash", ASK), architecture=agent.architecture)
    append = {"command": "echo draft >> log.txt"}
    agent.script(("Bash", append), ("Bash", append), "Appended twice.")
    await talk.send("Append to log.txt twice.")
    asked = (await until_asked(talk)).approval_requested
    await respond(talk, asked.approval_id, updated_input=struct({"command": "echo edited >> log.txt"}), remember=True)
    events = await talk.until_turn_completed()
    assert not any(e.HasField("approval_requested") for e in events), "the same call again is not asked"
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    assert await stored(talk, "log.txt") == b"edited\ndraft\n", "the caller's command, then the agent's own"


async def test_a_deny_rule_refuses_without_asking(stub: Stub, agent: Agent) -> None:
    talk = await conversation(stub, ("Bash(rm:*)", DENY), architecture=agent.architecture)
    agent.script(("Bash", {"command": "rm -rf kept"}), "Refused, then.")
    await talk.send("Remove it.")
    events = await talk.until_turn_completed()
    assert not any(e.HasField("approval_requested") for e in events)
    refusal, is_error = agent.last_result()
    assert is_error and "Bash(rm:*)" in refusal


async def test_the_first_rule_that_matches_decides_for_every_tool(stub: Stub, agent: Agent) -> None:
    """An allow rule ahead of a deny rule wins (Claude Code's own settings would apply the deny first), and a
    Read is asked about though Claude Code reads the workspace without asking by itself."""
    rules = (("Bash(echo ok)", ALLOW), ("Bash", DENY), ("Read", ASK))
    talk = await conversation(stub, *rules, architecture=agent.architecture)
    agent.script(("Bash", {"command": "echo ok"}), ("Read", {"file_path": "/workspace/log.txt"}), "Done.")
    await talk.send("Echo, then read.")
    asked = (await until_asked(talk)).approval_requested
    assert (asked.tool_name, asked.rule) == (agent.tool("Read"), "Read")
    ran, is_error = agent.last_result()
    assert not is_error and "ok" in ran, "the allowed command ran"
    await respond(talk, asked.approval_id, DENY_IT)
    events = await talk.until_turn_completed()
    assert events[-1].turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
    assert agent.last_result()[1], "the read was refused"


@pytest.mark.parametrize("agent", QUESTIONING, indirect=True)
async def test_the_agents_question_is_answered_by_the_user(stub: Stub, agent: Agent) -> None:
    talk = await conversation(stub, profile="asking", architecture=agent.architecture)
    options = [{"label": "red", "description": "warm"}, {"label": "blue", "description": "cool"}]
    question = {"question": "Which color?", "header": "Color", "options": options, "multiSelect": False}
    agent.script(("AskUserQuestion", {"questions": [question]}), "Blue it is.")
    await talk.send("Paint it.")
    asked = (await until_asked(talk)).approval_requested
    assert asked.tool_name == "AskUserQuestion" and asked.rule == ""
    assert [(q.question, [o.label for o in q.options]) for q in asked.questions] == [("Which color?", ["red", "blue"])]
    assert "AskUserQuestion" in agent.offered()
    await respond(talk, asked.approval_id, answers={"Which color?": "blue"})
    await talk.until_turn_completed()
    answer, is_error = agent.last_result()
    assert not is_error and "Which color?" in answer and "blue" in answer


async def test_a_client_tool_is_run_by_the_caller(stub: Stub, agent: Agent) -> None:
    lookup = permissions_pb2.ClientTool(
        name="lookup_order",
        description="Finds an order.",
        input_schema=struct({"type": "object", "properties": {"order": {"type": "string"}}}),
    )
    talk = await conversation(stub, client_tools=(lookup,), architecture=agent.architecture)
    agent.script((agent.client_tool("lookup_order"), {"order": "42"}), "It shipped.")
    await talk.send("Where is order 42?")
    seen = await talk.until(lambda event: event.HasField("client_tool_call"))
    call = seen[-1].client_tool_call
    assert (call.tool_name, dict(call.input)) == ("lookup_order", {"order": "42"})
    waiting = [e.block_update.block for e in seen if e.HasField("block_update")]
    assert (waiting[-1].id, waiting[-1].tool_use.status) == (
        call.tool_use_block_id,
        blocks_pb2.TOOL_STATUS_WAITING_FOR_RESULT,
    )
    assert call.tool_use_id and waiting[-1].tool_use.tool_use_id == call.tool_use_id
    offered = agent.offered()[agent.client_tool("lookup_order")]
    assert offered["properties"]["order"] == {"type": "string"}
    shipped = struct_pb2.Value(struct_value=struct({"status": "shipped"}))
    by_call = api.SubmitToolResultRequest(session_id=talk.session_id, tool_use_id=call.tool_use_id, output=shipped)
    result = await stub.SubmitToolResult(by_call, metadata=AUTH)  # named by the model's id of the call
    assert (result.result.call_id, result.result.answered_by) == (call.call_id, "caller")
    await talk.until_turn_completed()
    output, is_error = agent.last_result()
    assert not is_error and '"shipped"' in output


async def test_an_interrupt_while_waiting_ends_the_turn_and_closes_what_waits(stub: Stub, agent: Agent) -> None:
    talk = await conversation(stub, ("Write", ASK), architecture=agent.architecture)
    agent.script(("Write", {"file_path": "/workspace/c.txt", "content": "c"}))
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


async def test_an_approval_may_be_named_by_its_calls_tool_use_id(stub: Stub, fake_model: FakeAnthropic) -> None:
    talk = await conversation(stub, ("Write", ASK))
    fake_model.script([Turn.tool_use("Write", {"file_path": "d.txt", "content": "d"}), Turn.text("Done.")])
    await talk.send("Write d.txt.")
    asked = (await until_asked(talk)).approval_requested
    assert asked.tool_use_id.startswith("toolu_"), "the model's own id of the call"

    both = await rpc_error(respond(talk, asked.approval_id, tool_use_id=asked.tool_use_id))
    assert field_violations(both) == {"tool_use_id": "ONE_ID_ONLY"}
    neither = await rpc_error(respond(talk, ""))
    assert field_violations(neither) == {"approval_id": "REQUIRED_FIELD"}
    unknown = await rpc_error(respond(talk, "", tool_use_id="toolu_nobody"))
    assert_error(unknown, grpc.StatusCode.NOT_FOUND, "APPROVAL_NOT_FOUND")

    answered = await respond(talk, "", tool_use_id=asked.tool_use_id)
    assert answered.resolution.approval_id == asked.approval_id
    await talk.until_turn_completed()
    assert await stored(talk, "d.txt") == b"d"
    late = await rpc_error(respond(talk, "", tool_use_id=asked.tool_use_id))
    assert_error(late, grpc.StatusCode.FAILED_PRECONDITION, "APPROVAL_CLOSED")


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
