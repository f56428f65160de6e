"""A Modal sandbox outlives the replica that made it: when that replica dies, the replica that takes its
session over finds the same sandbox again by its session tag, workspace and all."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.fakes.modal import FakeModal, running_fake_modal
from tests.integration.conftest import AUTH
from tests.integration.fleet.conftest import (
    LEASE_TTL,
    Fleet,
    check_log,
    new_conversation,
    running_fleet,
    send_until_taken,
    stored_log,
)
from tests.support.nats import NatsServer


@pytest.fixture(scope="module")
async def fake_modal() -> AsyncIterator[FakeModal]:
    async with running_fake_modal() as fake:
        yield fake


@pytest.fixture(scope="module")
def modal_fleet(
    tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic, nats_server: NatsServer, fake_modal: FakeModal
) -> Iterator[Fleet]:
    env = {
        "ANTHROPIC_API_KEY": fake_model.api_key,
        "ANTHROPIC_BASE_URL": fake_model.base_url,
        "MODAL_SERVER_URL": fake_modal.server_url,
        "MODAL_TOKEN_ID": fake_modal.token_id,
        "MODAL_TOKEN_SECRET": fake_modal.token_secret,
    }
    root = tmp_path_factory.mktemp("modal-fleet")
    with running_fleet(root, nats_server, env, ("m1", "m2"), ("--sandbox=modal",)) as fleet:
        yield fleet


async def until_running(command: str) -> None:
    for _ in range(200):
        if subprocess.run(["pgrep", "-f", command], capture_output=True).stdout:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{command!r} never ran")


async def test_the_next_owner_finds_the_dead_owners_modal_sandbox(
    modal_fleet: Fleet, fake_model: FakeAnthropic
) -> None:
    talk = await new_conversation(modal_fleet["m1"].stub)
    fake_model.script([Turn.tool_use("Bash", {"command": "echo kept > kept.txt"}), Turn.text("Written.")])
    await talk.send("Write a file.")
    await talk.until_turn_completed()
    made = await talk.stub.GetSession(api.GetSessionRequest(session_id=talk.session_id), metadata=AUTH)
    assert made.runtime.owner_replica_id == "m1" and made.runtime.sandbox.sandbox_id

    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 4477"})])
    running = await talk.send("Sleep until m1 dies.")
    await until_running("sleep 4477")
    talk.stub = modal_fleet["m2"].stub
    modal_fleet["m1"].process.stop(signal.SIGKILL)
    interrupted = await asyncio.wait_for(talk.until_event("turn_completed", running.turn_id), LEASE_TTL + 10)
    assert interrupted.turn_completed.outcome == events_pb2.TURN_OUTCOME_INTERRUPTED

    fake_model.script([Turn.tool_use("Bash", {"command": "cat kept.txt"}), Turn.text("Found it.")])
    after = await send_until_taken(talk, "Read it back.", "m1", within=LEASE_TTL + 5)
    await talk.until_turns_ended([after.turn_id])
    assert "kept" in str(fake_model.message_requests()[-1].tool_results[-1]["content"])
    found = await talk.stub.GetSession(api.GetSessionRequest(session_id=talk.session_id), metadata=AUTH)
    assert found.runtime.owner_replica_id == "m2"
    assert found.runtime.sandbox.sandbox_id == made.runtime.sandbox.sandbox_id, "the same sandbox, found again"
    check_log(await stored_log(talk.stub, talk.session_id))
