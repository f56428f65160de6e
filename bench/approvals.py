"""A human in the loop on each architecture: from RespondToApproval (ALLOW) to the call's tool_result event on a
subscriber's stream, p50 and p99. The native loop also says what the call itself took in the same rounds (its
result block's duration: Bash running `true`, the bench profile's one tool), so the rest is the approval's
path; the CLIs' result blocks carry no duration, and their figure includes the CLI running the command."""

from __future__ import annotations

import statistics
import time
from typing import Any

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2, permissions_pb2, session_pb2
from bench.bench_runtime import AUTH, bench_runtime
from bench.sandbox_latency import percentile
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import gemini as fake_gemini

# Rounds per architecture: a CLI starts a process of its own each turn.
ROUNDS = {"anthropic": 50, "claude-agent-sdk": 20, "gemini-cli": 20}
ASKED = session_pb2.SessionOptions(
    permissions=permissions_pb2.PermissionPolicy(
        rules=[permissions_pb2.PermissionRule(rule="Bash", action=permissions_pb2.PERMISSION_ACTION_ASK)]
    )
)


def is_tool_result(event: events_pb2.SessionEvent) -> bool:
    return event.HasField("block_complete") and event.block_complete.block.HasField("tool_result")


async def one_round(stub: Any, session_id: str, after: int) -> tuple[float, float, int]:
    """Seconds from the answer sent to the tool's result event, the seconds the call itself took, and the
    sequence the round ended at."""
    request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True)
    stream = stub.StreamSessionEvents(request, metadata=AUTH)
    await stream.initial_metadata()
    await stub.SendMessage(api.SendMessageRequest(session_id=session_id, content="write"), metadata=AUTH)
    started = took = ran = 0.0
    async for response in stream:
        event = response.event
        if event.HasField("approval_requested"):
            started = time.perf_counter()
            respond = api.RespondToApprovalRequest(
                session_id=session_id,
                approval_id=event.approval_requested.approval_id,
                decision=events_pb2.APPROVAL_DECISION_ALLOW,
            )
            await stub.RespondToApproval(respond, metadata=AUTH)
        elif is_tool_result(event):
            took = time.perf_counter() - started
            ran = event.block_complete.block.tool_result.duration.ToNanoseconds() / 1e9
        elif event.HasField("turn_completed"):
            stream.cancel()
            return took, ran, event.sequence
    raise AssertionError("the stream ended before the turn did")


async def measure() -> dict[str, Any]:
    async with (
        fake_anthropic.running_fake_anthropic([], fail_on_unexpected=False) as anthropic,
        fake_gemini.running_fake_gemini([], fail_on_unexpected=False) as gemini,
    ):
        anthropic.repeat([fake_anthropic.Turn.tool_use("Bash", {"command": "true"}), fake_anthropic.Turn.text("ok")])
        gemini.repeat(
            [fake_gemini.Turn.function_call("run_shell_command", {"command": "true"}), fake_gemini.Turn.text("ok")]
        )
        environment = {
            "ANTHROPIC_API_KEY": anthropic.api_key,
            "ANTHROPIC_BASE_URL": anthropic.base_url,
            "GEMINI_API_KEY": gemini.api_key,
            "GOOGLE_GEMINI_BASE_URL": gemini.base_url,
        }
        async with bench_runtime(environment) as runtime:
            return {
                architecture: await rounds(runtime.stub, architecture, count) for architecture, count in ROUNDS.items()
            }


async def rounds(stub: Any, architecture: str, count: int) -> dict[str, Any]:
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="bench", architecture=architecture, session_options=ASKED),
        metadata=AUTH,
    )
    answered, ran, cursor = [], [], 0
    for _ in range(count):
        took, call, cursor = await one_round(stub, created.session_id, cursor)
        answered.append(took)
        ran.append(call)
    measured = {"respond_to_approval_to_tool_result": figures(answered)}
    if architecture == "anthropic":
        measured["the_call_itself"] = figures(ran)
    return measured


def figures(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(seconds) * 1000, "p99_ms": percentile(seconds, 0.99) * 1000}
