"""The cost of storing a message before SendMessage answers: its answer time, p50 and p99, beside GetSession
(BASIC: one storage read) on the same loaded session of the same runtime in the same run. The messages queue
behind each other's turns (the fake model answers each at once), as a busy caller's would."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import session_pb2
from bench.bench_runtime import AUTH, bench_runtime
from bench.sandbox_latency import percentile
from tests.fakes import anthropic as fake_anthropic

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
        environment = {"ANTHROPIC_API_KEY": model.api_key, "ANTHROPIC_BASE_URL": model.base_url}
        async with bench_runtime(environment) as runtime:
            stub = runtime.stub
            created = await stub.CreateSession(
                api.CreateSessionRequest(agent_profile_ref="bench", architecture="anthropic"), metadata=AUTH
            )
            send = api.SendMessageRequest(session_id=created.session_id, content="hi")
            await stub.SendMessage(send, metadata=AUTH)  # loads the session
            get = api.GetSessionRequest(session_id=created.session_id, view=session_pb2.SESSION_VIEW_BASIC)
            sending = await timed(lambda: stub.SendMessage(send, metadata=AUTH))
            getting = await timed(lambda: stub.GetSession(get, metadata=AUTH))
    return {"send_message": figures(sending), "get_session_basic": figures(getting)}
