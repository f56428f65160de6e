"""A fleet of three real `agent-runtime serve` replicas on one PostgreSQL database and a nats-server of the
module's own, with the fake Anthropic API as their model; sessions of the `anthropic` architecture."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2, session_pb2
from tests.fakes.anthropic import FakeAnthropic, running_fake_anthropic
from tests.integration.agents.conftest import Conversation
from tests.integration.conftest import AUTH, launch, make_profiles
from tests.support import postgres, processes
from tests.support.nats import NatsServer
from tests.support.rpc import channel, error_info

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

LEASE_TTL = 2.0
ARGS = ("--heartbeat-interval=0.5s", f"--lease-ttl={LEASE_TTL:g}s", "--shutdown-grace=5s")
REPLICAS = ("r1", "r2", "r3")


@dataclass
class Replica:
    replica_id: str
    data_dir: Path
    process: processes.ChildProcess
    channel: grpc.aio.Channel | None = None

    @property
    def address(self) -> str:
        return self.process.address

    @property
    def stub(self) -> Stub:
        """A stub on a channel of its own, made anew when the replica was started again."""
        if self.channel is None:
            self.channel = channel(self.address)
        return agent_runtime_pb2_grpc.AgentRuntimeStub(self.channel)

    @property
    def pid(self) -> int:
        return self.process.process.pid

    def log(self) -> str:
        return self.process.text()


@dataclass
class Fleet:
    root: Path
    profiles: Path
    database: str
    nats: NatsServer
    env: dict[str, str]
    extra_args: tuple[str, ...] = ()
    replicas: dict[str, Replica] = field(default_factory=dict)

    def args(self, replica_id: str) -> tuple[str, ...]:
        return (
            *ARGS,
            *self.extra_args,
            f"--storage={self.database}",
            f"--bus={self.nats.url}",
            f"--replica-id={replica_id}",
        )

    def start(self, replica_id: str) -> Replica:
        data_dir = self.root / replica_id
        process = launch(data_dir, self.profiles, self.args(replica_id), self.env)
        replica = self.replicas[replica_id] = Replica(replica_id, data_dir, process)
        return replica

    async def restart(self, replica_id: str) -> Replica:
        """The replica (dead, or stopped) started again, without holding up this event loop (the fake model
        runs on it)."""
        old = self.replicas[replica_id]
        await asyncio.to_thread(old.process.stop, signal.SIGKILL)
        if old.channel is not None:
            await old.channel.close()
        return await asyncio.to_thread(self.start, replica_id)

    def __getitem__(self, replica_id: str) -> Replica:
        return self.replicas[replica_id]

    async def owner(self, session_id: str, via: str = "r1") -> str:
        session = await self[via].stub.GetSession(api.GetSessionRequest(session_id=session_id), metadata=AUTH)
        return session.runtime.owner_replica_id

    def others(self, replica_id: str) -> list[str]:
        return [r for r in self.replicas if r != replica_id]


@pytest.fixture(scope="module")
async def fake_model() -> AsyncIterator[FakeAnthropic]:
    async with running_fake_anthropic([], fail_on_unexpected=False) as fake:
        yield fake


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    server = NatsServer()
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def running_fleet(
    root: Path,
    nats: NatsServer,
    env: dict[str, str],
    replicas: tuple[str, ...] = REPLICAS,
    extra_args: tuple[str, ...] = (),
) -> Iterator[Fleet]:
    """Replicas on a database of their own, stopped as an operator would on the way out (each ends its
    sandboxes)."""
    with postgres.fresh_database() as database:
        fleet = Fleet(root, make_profiles(root / "profiles"), database, nats, env, extra_args)
        try:
            for replica_id in replicas:
                fleet.start(replica_id)
            yield fleet
        finally:
            for replica in fleet.replicas.values():
                if replica.process.process.poll() is None:
                    os.kill(replica.pid, signal.SIGCONT)
                replica.process.stop()


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic, nats_server: NatsServer
) -> Iterator[Fleet]:
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    with running_fleet(tmp_path_factory.mktemp("fleet"), nats_server, env) as fleet:
        yield fleet


async def new_conversation(stub: Stub) -> Conversation:
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic"), metadata=AUTH
    )
    return Conversation(stub, created.session_id)


async def send_until_taken(talk: Conversation, content: str, owner: str, within: float) -> api.SendMessageResponse:
    """Sends as a client of a fleet does while the session's owner is gone: the same request_id again while the
    answer is UNAVAILABLE, which must name that owner, until the owner's lease has expired and another replica
    took the message (within `within` seconds)."""
    request_id = str(uuid.uuid4())
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await talk.send(content, request_id=request_id)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
            info = error_info(error)
            assert (info.reason, info.metadata["replica_id"]) == ("OWNER_UNAVAILABLE", owner), error.details()
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.2)


async def stored_log(stub: Stub, session_id: str) -> list[events_pb2.SessionEvent]:
    """Every stored event of the session, as a stream that does not follow replays it."""
    request = api.StreamSessionEventsRequest(session_id=session_id, follow=False)
    return [r.event async for r in stub.StreamSessionEvents(request, metadata=AUTH) if r.HasField("event")]


def check_log(events: list[events_pb2.SessionEvent]) -> dict[str, events_pb2.TurnCompleted]:
    """What a log must be however its replicas died: dense, each accepted message ended once and started at
    most once, turns one after another, and the agent's blocks only inside a turn. The turns' endings."""
    assert [e.sequence for e in events] == list(range(1, len(events) + 1)), "dense, no gap, no duplicate"
    accepted = [e.message_accepted.turn_id for e in events if e.HasField("message_accepted")]
    started = [e.turn_started.turn_id for e in events if e.HasField("turn_started")]
    ended = {e.turn_completed.turn_id: e.turn_completed for e in events if e.HasField("turn_completed")}
    assert len(accepted) == len(set(accepted)), "each message accepted once"
    assert len(started) == len(set(started)), "no message started twice"
    assert [e.turn_completed.turn_id for e in events if e.HasField("turn_completed")] == list(ended), "ended once"
    assert set(started) <= set(accepted) and set(ended) <= set(accepted)
    running = None
    for event in events:
        kind = event.WhichOneof("payload")
        if kind == "turn_started":
            assert running is None, f"turn {event.turn_started.turn_id} started inside {running}"
            running = event.turn_started.turn_id
        elif kind == "turn_completed":
            if running == event.turn_completed.turn_id:
                running = None
        elif kind in ("block_start", "block_delta", "block_update", "block_complete"):
            assert running is not None, f"event {event.sequence} ({kind}) outside any turn"
    return ended


def completed(ended: dict[str, events_pb2.TurnCompleted]) -> list[str]:
    return [t for t, c in ended.items() if c.outcome == events_pb2.TURN_OUTCOME_COMPLETED]


BASIC = session_pb2.SESSION_VIEW_BASIC
