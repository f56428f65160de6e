"""The latency the runtime adds to an answer's first text delta (anthropic architecture): from SendMessage
to a gRPC subscriber receiving the first delta, beside the real SDK streaming straight from the same
fake model in the same run."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anthropic
import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from bench.sandbox_latency import percentile
from tests.fakes.anthropic import Turn, running_fake_anthropic
from tests.support import processes

ROUNDS = 20
KEY = "bench-key"
AUTH = (("authorization", f"Bearer {KEY}"),)


async def first_delta_direct(client: anthropic.AsyncAnthropic) -> float:
    started = time.perf_counter()
    latency = 0.0
    messages: Any = [{"role": "user", "content": "hi"}]
    async with client.messages.stream(model="m", max_tokens=64, messages=messages) as stream:
        async for event in stream:  # read to the end, as the runtime does
            if not latency and event.type == "content_block_delta":
                latency = time.perf_counter() - started
    return latency


async def first_delta_through_runtime(stub: Any, session_id: str, after: int) -> tuple[float, int]:
    request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True)
    stream = stub.StreamSessionEvents(request, metadata=AUTH)
    await stream.initial_metadata()
    started = time.perf_counter()
    await stub.SendMessage(api.SendMessageRequest(session_id=session_id, content="hi"), metadata=AUTH)
    latency, cursor = 0.0, after
    async for response in stream:
        if not response.HasField("event"):
            continue
        cursor = response.event.sequence
        event = response.event
        if not latency and event.HasField("block_delta") and event.block_delta.kind == events_pb2.DELTA_KIND_TEXT:
            latency = time.perf_counter() - started
        if event.HasField("turn_completed"):
            break
    stream.cancel()
    return latency, cursor


async def measure() -> dict[str, float]:
    async with running_fake_anthropic([]) as fake:
        fake.script([Turn.text("Hello there, how are you today?")] * (ROUNDS * 2 + 1))
        direct_client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key=fake.api_key, max_retries=0)
        direct = [await first_delta_direct(direct_client) for _ in range(ROUNDS)]
        await direct_client.close()
        with tempfile.TemporaryDirectory() as root:
            (Path(root) / "profiles").mkdir()
            (Path(root) / "profiles" / "default.yaml").write_text("name: Bench\ntools: [Bash]\n")
            runtime = processes.start(
                ["serve", "--grpc-address=127.0.0.1:0", f"--data-dir={root}/data", f"--profiles-dir={root}/profiles"],
                env={
                    "AGENT_RUNTIME_API_KEY": KEY,
                    "ANTHROPIC_API_KEY": fake.api_key,
                    "ANTHROPIC_BASE_URL": fake.base_url,
                },
            )
            try:
                async with grpc.aio.insecure_channel(runtime.address) as channel:
                    stub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
                    created = await stub.CreateSession(
                        api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic"), metadata=AUTH
                    )
                    _, cursor = await first_delta_through_runtime(stub, created.session_id, 0)  # creates the sandbox
                    through: list[float] = []
                    for _ in range(ROUNDS):
                        latency, cursor = await first_delta_through_runtime(stub, created.session_id, cursor)
                        through.append(latency)
            finally:
                runtime.stop()
    added = [t - statistics.median(direct) for t in through]
    return {
        "direct_sdk_p50_ms": statistics.median(direct) * 1000,
        "through_runtime_p50_ms": statistics.median(through) * 1000,
        "through_runtime_p99_ms": percentile(through, 0.99) * 1000,
        "added_p50_ms": statistics.median(added) * 1000,
        "added_p99_ms": percentile(added, 0.99) * 1000,
    }
