"""The cost of storing a message before SendMessage answers: its answer time, p50 and p99, beside GetSession
(BASIC: one storage read) on the same loaded session of the same runtime in the same run. The messages queue
behind each other's turns (the fake model answers each at once), as a busy caller's would."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, session_pb2
from bench.first_delta import AUTH, KEY, PROFILE
from bench.sandbox_latency import percentile
from tests.fakes import anthropic as fake_anthropic
from tests.support import processes

CALLS = 200


async def timed(call: Callable[[], Awaitable[Any]]) -> list[float]:
    seconds = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - started)
    return seconds


def figures(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(seconds) * 1000, "p99_ms": percentile(seconds, 0.99) * 1000}


async def measure() -> dict[str, dict[str, float]]:
    async with fake_anthropic.running_fake_anthropic([], fail_on_unexpected=False) as model:
        model.script([fake_anthropic.Turn.text("ok")] * (CALLS + 1))
        with tempfile.TemporaryDirectory() as root:
            (Path(root) / "profiles").mkdir()
            (Path(root) / "profiles" / "bench.json").write_text(json_format.MessageToJson(PROFILE))
            runtime = processes.start(
                ["serve", "--grpc-address=127.0.0.1:0", f"--data-dir={root}/data", f"--profiles-dir={root}/profiles"],
                env={
                    "AGENT_RUNTIME_API_KEY": KEY,
                    "ANTHROPIC_API_KEY": model.api_key,
                    "ANTHROPIC_BASE_URL": model.base_url,
                },
            )
            try:
                async with grpc.aio.insecure_channel(runtime.address) as channel:
                    stub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
                    created = await stub.CreateSession(
                        api.CreateSessionRequest(agent_profile_ref="bench", architecture="anthropic"), metadata=AUTH
                    )
                    session_id = created.session_id
                    send = api.SendMessageRequest(session_id=session_id, content="hi")
                    await stub.SendMessage(send, metadata=AUTH)  # loads the session
                    get = api.GetSessionRequest(session_id=session_id, view=session_pb2.SESSION_VIEW_BASIC)
                    sending = await timed(lambda: stub.SendMessage(send, metadata=AUTH))
                    getting = await timed(lambda: stub.GetSession(get, metadata=AUTH))
            finally:
                runtime.stop()
    return {"send_message": figures(sending), "get_session_basic": figures(getting)}
