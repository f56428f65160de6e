"""A fleet with its bus down, and with an owner that does not answer: nothing is lost, nobody is told a lie,
and a session never has two owners."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import aiohttp
import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import AUTH
from tests.integration.fleet.conftest import (
    LEASE_TTL,
    Fleet,
    Replica,
    check_log,
    new_conversation,
    send_until_taken,
    stored_log,
)
from tests.integration.fleet.test_streams import follow
from tests.support.nats import NatsServer
from tests.support.rpc import error_info


async def health(replica: Replica) -> dict[str, Any]:
    async with aiohttp.ClientSession() as client, client.get(f"http://{replica.process.rest_address}/health") as answer:
        assert answer.status == 200, "a replica without its bus still serves"
        body: dict[str, Any] = await answer.json()
        return body


async def until_bus(replica: Replica, status: str) -> dict[str, Any]:
    for _ in range(100):
        body = await health(replica)
        if body["bus"]["status"] == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{replica.replica_id}'s bus never became {status}")


async def test_without_nats_streams_read_storage_and_health_says_why(
    fleet: Fleet, fake_model: FakeAnthropic, nats_server: NatsServer
) -> None:
    talk = await new_conversation(fleet["r1"].stub)
    fake_model.script([Turn.text("Before.")])
    await talk.send("Load.")
    await talk.until_turn_completed()
    assert (await health(fleet["r2"]))["bus"] == {"status": "SERVING"}

    nats_server.stop()
    down = await until_bus(fleet["r2"], "NOT_SERVING")
    assert "NATS" in down["bus"]["reason"] and nats_server.url.removeprefix("nats://") in down["bus"]["reason"]
    head = talk.cursor
    following = asyncio.create_task(follow(fleet["r2"].stub, talk.session_id, turns=1, after=head))
    fake_model.script([Turn.text("Without a bus.")])
    await fleet["r3"].stub.SendMessage(
        api.SendMessageRequest(session_id=talk.session_id, content="Now?"), metadata=AUTH
    )
    seen = await asyncio.wait_for(following, 30)
    assert seen == (await stored_log(fleet["r1"].stub, talk.session_id))[head:], "every event, from storage"

    nats_server.start()
    await until_bus(fleet["r2"], "SERVING")
    following = asyncio.create_task(follow(fleet["r3"].stub, talk.session_id, turns=1, after=seen[-1].sequence))
    fake_model.script([Turn.text("With a bus again.")])
    await fleet["r2"].stub.SendMessage(
        api.SendMessageRequest(session_id=talk.session_id, content="And now?"), metadata=AUTH
    )
    again = await asyncio.wait_for(following, 30)
    check_log(await stored_log(fleet["r1"].stub, talk.session_id))
    assert again[-1].HasField("turn_completed")


async def test_an_owner_that_does_not_answer_is_named_until_its_lease_expires(
    fleet: Fleet, fake_model: FakeAnthropic
) -> None:
    talk = await new_conversation(fleet["r2"].stub)
    fake_model.repeat([Turn.text("Here.")])
    await talk.send("Load on r2.")
    await talk.until_turn_completed()
    os.kill(fleet["r2"].pid, signal.SIGSTOP)
    try:
        talk.stub = fleet["r1"].stub
        try:
            await talk.send("Anyone?")
            raise AssertionError("a message reached a paused owner")
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            info = error_info(error)
            assert (info.reason, info.metadata["replica_id"]) == ("OWNER_UNAVAILABLE", "r2")
            assert "r2" in (error.details() or "")
        taken = await send_until_taken(talk, "Taken?", "r2", within=LEASE_TTL + 5)
        await talk.until_turns_ended([taken.turn_id])
        new_owner = await fleet.owner(talk.session_id)
        assert new_owner not in ("", "r2")
    finally:
        os.kill(fleet["r2"].pid, signal.SIGCONT)

    for _ in range(50):  # back, it finds its lease gone and lets the session be
        if "lease lost" in fleet["r2"].log():
            break
        await asyncio.sleep(0.1)
    assert await fleet.owner(talk.session_id, via="r2") == new_owner
    after = await fleet["r2"].stub.SendMessage(
        api.SendMessageRequest(session_id=talk.session_id, content="Through r2."), metadata=AUTH
    )
    await talk.until_turns_ended([after.turn_id])
    check_log(await stored_log(talk.stub, talk.session_id))
    fake_model.discard()
