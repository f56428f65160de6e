"""The TypeScript client (clients/typescript) against a live runtime: its Node tests, run by `node --test`, and
its event follower kept running across a runtime restart.

The runtime's model is the fake Anthropic API, scripted here with the answer the Node tests expect to see
streamed back; they read the address, the key and that answer from the environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, permissions_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import ARGS
from tests.integration.conftest import API_KEY, AUTH, REPO, Runtime, launch, make_profiles
from tests.support import processes
from tests.support.rpc import channel

CLIENT = REPO / "clients" / "typescript"
REPLY = "Hello from the fake model, streamed to TypeScript."
# At least as many as the messages the Node tests send; an answer left over is harmless.
ANSWERS = 8


def node() -> str:
    found = shutil.which("node")
    assert found, "Node 20 or later is needed to test the TypeScript client"
    assert (CLIENT / "node_modules" / "tsx").is_dir(), "run `make install` for the TypeScript client's packages"
    return found


def node_env(address: str) -> dict[str, str]:
    return {
        **os.environ,
        "AGENT_RUNTIME_GRPC_ADDRESS": address,
        "AGENT_RUNTIME_API_KEY": API_KEY,
        "AGENT_RUNTIME_TEST_REPLY": REPLY,
    }


@pytest.mark.timeout(300)
async def test_the_typescript_client_passes_its_node_tests(runtime: Runtime, fake_model: FakeAnthropic) -> None:
    tests = sorted(str(path.relative_to(CLIENT)) for path in (CLIENT / "test").glob("*.test.ts"))
    assert tests, "no Node tests found"
    fake_model.script([Turn.text(REPLY) for _ in range(ANSWERS)])
    ran = await asyncio.to_thread(
        subprocess.run,
        [node(), "--import", "tsx", "--test", "--test-reporter=spec", *tests],
        cwd=CLIENT, env=node_env(runtime.address), capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert ran.returncode == 0, f"the Node tests failed:\n{ran.stdout}\n{ran.stderr}"
    # Every test ran and passed: none skipped, none left as todo.
    counts = dict(re.findall(r"^\S (tests|pass) (\d+)$", ran.stdout, re.MULTILINE))
    assert counts.get("tests", "0") != "0" and counts.get("pass") == counts["tests"], ran.stdout


async def send(address: str, session_id: str, content: str) -> None:
    async with channel(address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        await stub.SendMessage(api.SendMessageRequest(session_id=session_id, content=content), metadata=AUTH)


async def until_turn_completed(follower: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    """The JSON events the follower prints, up to its next turn_completed."""
    assert follower.stdout is not None and follower.stderr is not None
    events: list[dict[str, Any]] = []
    while not events or "turnCompleted" not in events[-1]:
        line = await asyncio.wait_for(follower.stdout.readline(), 90)
        if not line:
            raise AssertionError(f"the follower stopped:\n{(await follower.stderr.read()).decode()}")
        events.append(json.loads(line))
    return events


@pytest.mark.timeout(300)
async def test_the_event_follower_resumes_across_a_runtime_restart(tmp_path: Path, fake_model: FakeAnthropic) -> None:
    # A fixed port, so that the runtime comes back where the follower looks for it.
    args = (*ARGS, f"--grpc-address=127.0.0.1:{processes.free_port()}")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    profiles = make_profiles(tmp_path / "profiles")
    server = Runtime(tmp_path / "data", profiles, launch(tmp_path / "data", profiles, args, env), args, env)
    fake_model.script([Turn.text(REPLY), Turn.text(REPLY)])
    follower: asyncio.subprocess.Process | None = None
    try:
        async with channel(server.address) as open_channel:
            stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
            creating = api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic")
            session_id = (await stub.CreateSession(creating, metadata=AUTH)).session_id
        await send(server.address, session_id, "Before the restart.")
        follower = await asyncio.create_subprocess_exec(
            node(), "--import", "tsx", "test/watch-session.ts", session_id,
            cwd=CLIENT, env=node_env(server.address), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        before = await until_turn_completed(follower)
        await asyncio.to_thread(server.restart)
        await send(server.address, session_id, "After the restart.")
        after = await until_turn_completed(follower)
    finally:
        if follower is not None and follower.returncode is None:
            follower.terminate()
            await follower.wait()
        server.process.stop()
    assert follower.stderr is not None
    said = (await follower.stderr.read()).decode()

    assert re.search(r"^resuming after \d+: Unavailable$", said, re.MULTILINE), said
    events = before + after
    assert [int(event["sequence"]) for event in events] == list(range(1, len(events) + 1)), "no gap, no duplicate"
    assert [event["turnCompleted"]["outcome"] for event in (before[-1], after[-1])] == ["TURN_OUTCOME_COMPLETED"] * 2


@pytest.mark.timeout(120)
async def test_the_typescript_client_answers_approvals_and_client_tools(
    runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    lookup = permissions_pb2.ClientTool(name="lookup_order", description="Finds an order.")
    options = session_pb2.SessionOptions(
        permissions=permissions_pb2.PermissionPolicy(
            rules=[permissions_pb2.PermissionRule(rule="Write", action=permissions_pb2.PERMISSION_ACTION_ASK)]
        ),
        client_tools=[lookup],
    )
    fake_model.discard()  # what the Node tests left
    fake_model.script(
        [
            Turn.tool_use("Write", {"file_path": "answer.txt", "content": "the agent's"}),
            Turn.tool_use("lookup_order", {"order": "42"}),
            Turn.text("Done."),
        ]
    )
    async with channel(runtime.address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        creating = api.CreateSessionRequest(
            agent_profile_ref="default", architecture="anthropic", session_options=options
        )
        session_id = (await stub.CreateSession(creating, metadata=AUTH)).session_id
        answering = await asyncio.create_subprocess_exec(
            node(), "--import", "tsx", "test/answer-session.ts", session_id, "the caller's",
            cwd=CLIENT, env=node_env(runtime.address), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await stub.SendMessage(
            api.SendMessageRequest(session_id=session_id, content="Write, then look up."), metadata=AUTH
        )
        printed, said = await asyncio.wait_for(answering.communicate(), 90)
        assert answering.returncode == 0, said.decode()
        written = await stub.GetWorkspaceFile(
            api.GetWorkspaceFileRequest(session_id=session_id, path="answer.txt"), metadata=AUTH
        )
    approval, tool_result = (json.loads(line) for line in printed.decode().splitlines())
    assert (approval["decision"], approval["answeredBy"]) == ("APPROVAL_DECISION_ALLOW", "typescript")
    assert tool_result["output"] == {"answered_by": "typescript"} and tool_result["answeredBy"] == "typescript"
    assert written.content == b"the caller's", "the approval's updated input was written"
    assert '"typescript"' in fake_model.message_requests()[-1].tool_results[-1]["content"]
