"""What an agent's floods cost the runtime: its peak resident memory during a turn whose command prints
400 MiB, and during one that rewrites a 1 MB file 300 times, beside a turn that does nothing, in the same
run on the same runtime; what the rewrites cost storage; and the runtime's CPU time for a turn that makes
5,000 files, beside the quiet turn's. The peak is VmHWM, reset before each turn."""

from __future__ import annotations

import os
from collections.abc import Awaitable
from pathlib import Path

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from bench.bench_runtime import AUTH, BenchRuntime, bench_runtime
from bench.session_memory import kib
from tests.fakes import anthropic as fake_anthropic
from tests.support.footprint import peak_rss_mib, reset_peak, storage_bytes

FLOOD = "yes | head -c 400M; echo"
CHURN = "for i in $(seq 300); do head -c 1000000 /dev/urandom > churn.bin; done"
QUIET = "true"
NEW_FILES = 5000
MAKE_FILES = f"mkdir many && cd many && for i in $(seq {NEW_FILES}); do : > f$i; done"
MIB = 1024 * 1024


class Turns:
    """One command a turn in a session, each followed from where the turn before ended (a replay from the
    start would cost the runtime more than the turn)."""

    def __init__(self, runtime: BenchRuntime, model: fake_anthropic.FakeAnthropic, session_id: str) -> None:
        self._runtime, self._model, self._session_id = runtime, model, session_id
        self._cursor = 0

    async def run(self, command: str) -> None:
        stub, model = self._runtime.stub, self._model
        model.script([fake_anthropic.Turn.tool_use("Bash", {"command": command}), fake_anthropic.Turn.text("Done.")])
        sent = await stub.SendMessage(
            api.SendMessageRequest(session_id=self._session_id, content=command), metadata=AUTH
        )
        request = api.StreamSessionEventsRequest(session_id=self._session_id, after_sequence=self._cursor, follow=True)
        async for response in stub.StreamSessionEvents(request, metadata=AUTH):
            self._cursor = max(self._cursor, response.event.sequence)
            if response.event.turn_completed.turn_id == sent.turn_id:
                return


def cpu_seconds(pid: int) -> float:
    utime, stime = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]
    return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


async def cpu_of(runtime: BenchRuntime, run: Awaitable[None]) -> float:
    before = cpu_seconds(runtime.pid)
    await run
    return cpu_seconds(runtime.pid) - before


async def peak_growth_mib(runtime: BenchRuntime, run: Awaitable[None]) -> float:
    before = reset_peak(runtime.pid)
    await run
    return peak_rss_mib(runtime.pid) - before


async def measure() -> dict[str, float]:
    async with fake_anthropic.running_fake_anthropic([], fail_on_unexpected=False) as model:
        environment = {"ANTHROPIC_API_KEY": model.api_key, "ANTHROPIC_BASE_URL": model.base_url}
        async with bench_runtime(environment) as runtime:
            created = await runtime.stub.CreateSession(
                api.CreateSessionRequest(agent_profile_ref="bench", architecture="anthropic"), metadata=AUTH
            )
            turns = Turns(runtime, model, created.session_id)
            await turns.run(QUIET)  # the sandbox is up
            rss_before = kib(runtime.pid, "status", "VmRSS") / 1024
            quiet = await peak_growth_mib(runtime, turns.run(QUIET))
            flood = await peak_growth_mib(runtime, turns.run(FLOOD))
            stored_before = storage_bytes(runtime.data_dir)
            churn = await peak_growth_mib(runtime, turns.run(CHURN))
            stored_growth = (storage_bytes(runtime.data_dir) - stored_before) / MIB
            rss_after = kib(runtime.pid, "status", "VmRSS") / 1024
            quiet_cpu = await cpu_of(runtime, turns.run(QUIET))
            files_cpu = await cpu_of(runtime, turns.run(MAKE_FILES))
    return {
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
        "quiet_turn_peak_growth_mib": quiet,
        "output_flood_400mib_peak_growth_mib": flood,
        "file_churn_300mb_peak_growth_mib": churn,
        "file_churn_storage_growth_mib": stored_growth,
        "quiet_turn_runtime_cpu_s": quiet_cpu,
        "new_files_5000_runtime_cpu_s": files_cpu,
        "new_file_runtime_cpu_ms": files_cpu / NEW_FILES * 1000,
    }
