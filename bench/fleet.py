"""What running as a fleet costs, each figure beside its baseline in the same fleet and run: three replicas
on one PostgreSQL database and a nats-server of the bench's own, the fake Anthropic API as their model.

- Events to subscribers on a replica that does not hold the session (through NATS) beside the owner's own
  subscribers: events/s during a 1,000-delta answer, the first text delta after SendMessage (p50/p99), and
  what the hop adds to that first delta (p50/p99, the same delta seen by a subscriber on each side).
- SendMessage sent to a replica that does not hold the session (forwarded over gRPC) beside one sent to the
  owner: p50/p99.
- Failover: SIGKILL of the owner mid-turn to the first event the new owner writes, p50 and max over 10 kills,
  with the default --lease-ttl (10 s): the lease's time, plus up to a quarter of it until a replica looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from bench.bench_runtime import AUTH, KEY, PROFILE
from bench.sandbox_latency import percentile
from bench.send_message import figures, timed
from tests.fakes import anthropic as fake_anthropic
from tests.support import postgres, processes
from tests.support.nats import NatsServer

REPLICAS = ("a", "b", "c")
SUBSCRIBERS = 10  # on each side
ROUNDS = 5
DELTAS = 1000  # of a round's answer
KILLS = 10
LEASE_TTL = "10s"
ANSWER = fake_anthropic.Turn([fake_anthropic.text("token " * DELTAS, pieces=DELTAS)])


@dataclass
class BenchFleet:
    root: Path
    database: str
    nats: NatsServer
    environment: dict[str, str]
    replicas: dict[str, processes.ChildProcess]

    def start(self, replica_id: str) -> None:
        self.replicas[replica_id] = processes.start(
            [
                "serve",
                "--grpc-address=127.0.0.1:0",
                f"--data-dir={self.root}/{replica_id}",
                f"--profiles-dir={self.root}/profiles",
                f"--storage={self.database}",
                f"--bus={self.nats.url}",
                f"--replica-id={replica_id}",
                f"--lease-ttl={LEASE_TTL}",
            ],
            env={"AGENT_RUNTIME_API_KEY": KEY, **self.environment},
        )

    @contextlib.asynccontextmanager
    async def stubs(self) -> AsyncIterator[dict[str, Any]]:
        async with contextlib.AsyncExitStack() as stack:
            yield {
                r: agent_runtime_pb2_grpc.AgentRuntimeStub(
                    await stack.enter_async_context(grpc.aio.insecure_channel(p.address))
                )
                for r, p in self.replicas.items()
            }


@contextlib.contextmanager
def bench_fleet(environment: dict[str, str]) -> Iterator[BenchFleet]:
    with tempfile.TemporaryDirectory() as root, postgres.fresh_database() as database:
        (Path(root) / "profiles").mkdir()
        (Path(root) / "profiles" / "bench.json").write_text(json_format.MessageToJson(PROFILE))
        nats = NatsServer()
        nats.start()
        fleet = BenchFleet(Path(root), database, nats, environment, {})
        try:
            for replica_id in REPLICAS:
                fleet.start(replica_id)
            yield fleet
        finally:
            for replica in fleet.replicas.values():
                replica.stop()
            nats.stop()


async def owned_session(stubs: dict[str, Any], owner: str, model: fake_anthropic.FakeAnthropic) -> str:
    """A session loaded on `owner` by a first message."""
    model.script([fake_anthropic.Turn.text("ok")])
    created = await stubs[owner].CreateSession(
        api.CreateSessionRequest(agent_profile_ref="bench", architecture="anthropic"), metadata=AUTH
    )
    await stubs[owner].SendMessage(api.SendMessageRequest(session_id=created.session_id, content="hi"), metadata=AUTH)
    await until_turn_completed(stubs[owner], created.session_id, 0)
    return str(created.session_id)


async def until_turn_completed(stub: Any, session_id: str, after: int) -> events_pb2.SessionEvent:
    request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True)
    async for response in stub.StreamSessionEvents(request, metadata=AUTH):
        if response.HasField("event") and response.event.HasField("turn_completed"):
            ended: events_pb2.SessionEvent = response.event
            return ended
    raise AssertionError("the stream ended before the turn did")


async def head_of(stub: Any, session_id: str) -> int:
    request = api.StreamSessionEventsRequest(session_id=session_id, follow=False)
    return max([r.event.sequence async for r in stub.StreamSessionEvents(request, metadata=AUTH)], default=0)


async def delta_arrivals(stub: Any, session_id: str, after: int, opened: asyncio.Event) -> dict[int, float]:
    """When each text delta of the next turn arrived (time.perf_counter()), by sequence."""
    request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True)
    stream = stub.StreamSessionEvents(request, metadata=AUTH)
    await stream.initial_metadata()
    opened.set()
    arrivals: dict[int, float] = {}
    async for response in stream:
        event = response.event
        if event.HasField("block_delta"):
            arrivals[event.sequence] = time.perf_counter()
        elif event.HasField("turn_completed"):
            break
    stream.cancel()
    return arrivals


def p50_p99(values: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(values) * 1000, "p99_ms": percentile(values, 0.99) * 1000}


async def events_on_each_side(stubs: dict[str, Any], model: fake_anthropic.FakeAnthropic) -> dict[str, Any]:
    session_id = await owned_session(stubs, "a", model)
    rates: dict[str, list[float]] = {"owner": [], "other_replica": []}
    first: dict[str, list[float]] = {"owner": [], "other_replica": []}
    hops: list[float] = []  # the first delta, seen on the other replica less seen on the owner
    for _ in range(ROUNDS):
        head = await head_of(stubs["a"], session_id)
        sides = {"owner": stubs["a"], "other_replica": stubs["b"]}
        opened = [asyncio.Event() for _ in range(2 * SUBSCRIBERS)]
        followers = {
            side: [
                asyncio.create_task(delta_arrivals(stub, session_id, head, opened[n + offset]))
                for n in range(SUBSCRIBERS)
            ]
            for offset, (side, stub) in zip((0, SUBSCRIBERS), sides.items(), strict=True)
        }
        await asyncio.gather(*(o.wait() for o in opened))
        model.script([ANSWER])
        sent = time.perf_counter()
        await stubs["a"].SendMessage(api.SendMessageRequest(session_id=session_id, content="go"), metadata=AUTH)
        seen = {side: await asyncio.gather(*tasks) for side, tasks in followers.items()}
        for side, arrivals in seen.items():
            for one in arrivals:
                rates[side].append(len(one) / (max(one.values()) - min(one.values())))
                first[side].append(min(one.values()) - sent)
        for owner_side, other_side in zip(seen["owner"], seen["other_replica"], strict=True):
            hops.append(min(other_side.values()) - min(owner_side.values()))
    owner_rate, other_rate = statistics.median(rates["owner"]), statistics.median(rates["other_replica"])
    return {
        "events_per_second_per_subscriber": {
            "owner": owner_rate,
            "other_replica": other_rate,
            "ratio_vs_owner": other_rate / owner_rate,
        },
        "first_delta_after_send_message": {side: p50_p99(values) for side, values in first.items()},
        "first_delta_added_by_the_hop": p50_p99(hops),
    }


async def send_message_on_each_side(stubs: dict[str, Any], model: fake_anthropic.FakeAnthropic) -> dict[str, Any]:
    session_id = await owned_session(stubs, "a", model)
    model.repeat([fake_anthropic.Turn.text("ok")])
    send = api.SendMessageRequest(session_id=session_id, content="hi")
    to_owner = await timed(lambda: stubs["a"].SendMessage(send, metadata=AUTH))
    forwarded = await timed(lambda: stubs["b"].SendMessage(send, metadata=AUTH))
    model.discard()
    owner, other = figures(to_owner), figures(forwarded)
    return {"to_owner": owner, "to_other_replica": other, "ratio_p50": other["p50_ms"] / owner["p50_ms"]}


async def failover(fleet: BenchFleet, model: fake_anthropic.FakeAnthropic) -> dict[str, float]:
    taken_after: list[float] = []
    model.repeat([fake_anthropic.Turn.tool_use("Bash", {"command": "sleep 600"})])
    for _ in range(KILLS):
        async with fleet.stubs() as stubs:
            owner = random.choice(REPLICAS)
            survivor = next(r for r in REPLICAS if r != owner)
            created = await stubs[owner].CreateSession(
                api.CreateSessionRequest(agent_profile_ref="bench", architecture="anthropic"), metadata=AUTH
            )
            request = api.SendMessageRequest(session_id=created.session_id, content="sleep")
            await stubs[owner].SendMessage(request, metadata=AUTH)
            await asyncio.sleep(1.0)  # the turn runs its command
            killed = time.time()
            await asyncio.to_thread(fleet.replicas[owner].stop, signal.SIGKILL)
            ended = await until_turn_completed(stubs[survivor], created.session_id, 0)
            taken_after.append(ended.time.ToNanoseconds() / 1e9 - killed)
        await asyncio.to_thread(fleet.start, owner)
    model.discard()
    return {"p50_s": statistics.median(taken_after), "max_s": max(taken_after), "lease_ttl_s": 10.0}


async def measure() -> dict[str, Any]:
    async with fake_anthropic.running_fake_anthropic([], fail_on_unexpected=False) as model:
        environment = {"ANTHROPIC_API_KEY": model.api_key, "ANTHROPIC_BASE_URL": model.base_url}
        with bench_fleet(environment) as fleet:
            async with fleet.stubs() as stubs:
                events = await events_on_each_side(stubs, model)
                sending = await send_message_on_each_side(stubs, model)
            taken = await failover(fleet, model)
    return {"events": events, "send_message": sending, "failover_after_sigkill": taken}


if __name__ == "__main__":
    print(asyncio.run(measure()))
