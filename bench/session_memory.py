"""Resident memory per idle loaded session: a runtime's RSS with one session loaded, then with SESSIONS
loaded (each has run one turn in its own sandbox and sits idle), beside what the sandboxes' own processes
hold (their proportional share), in the same run."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2
from tests.fakes.anthropic import Turn, running_fake_anthropic
from tests.support import processes

KEY = "bench-key"
AUTH = (("authorization", f"Bearer {KEY}"),)
SESSIONS = 1000
CALLERS = 16
# Small workspaces: each sandbox's disk is allocated on the host, and 1,000 of the default 1 GiB do not fit.
PROFILE = "name: Bench\ntools: [Bash]\nlimits:\n  diskBytes: 16777216\n"


def kib(pid: int, file: str, field: str) -> int:
    """A size in KiB from /proc/<pid>/<file>: VmRSS of status, or Pss of smaps_rollup (shared pages divided
    among the processes sharing them, so that many sandboxes of one binary are not counted many times)."""
    try:
        lines = Path(f"/proc/{pid}/{file}").read_text().splitlines()
    except OSError:
        return 0  # it ended meanwhile
    return next((int(line.split()[1]) for line in lines if line.startswith(f"{field}:")), 0)


def rss_kib(pid: int) -> int:
    return kib(pid, "status", "VmRSS")


def _children() -> dict[int, list[int]]:
    """Each process's children, from /proc (a process's parent is the 4th field of its stat, after the command
    name in parentheses)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the sandboxes' bwrap and their processes)."""
    children = _children()
    found, pending = [], [pid]
    while pending:
        below = children.get(pending.pop(), [])
        found += below
        pending += below
    return found


async def load_one(stub: Any) -> bool:
    """A session whose one turn has ended: loaded, with its sandbox, idle; whether the turn completed."""
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic"), metadata=AUTH
    )
    request = api.StreamSessionEventsRequest(session_id=created.session_id, follow=True)
    stream = stub.StreamSessionEvents(request, metadata=AUTH)
    await stream.initial_metadata()
    await stub.SendMessage(api.SendMessageRequest(session_id=created.session_id, content="hi"), metadata=AUTH)
    completed = False
    async for response in stream:
        if response.HasField("event") and response.event.HasField("turn_completed"):
            completed = response.event.turn_completed.outcome == events_pb2.TURN_OUTCOME_COMPLETED
            break
    stream.cancel()
    return completed


async def measure() -> dict[str, float]:
    async with running_fake_anthropic([]) as model:
        model.script([Turn.text("Hello.")] * SESSIONS)
        with tempfile.TemporaryDirectory() as root:
            (Path(root) / "profiles").mkdir()
            (Path(root) / "profiles" / "default.yaml").write_text(PROFILE)
            runtime = processes.start(
                ["serve", "--grpc-address=127.0.0.1:0", f"--data-dir={root}/data", f"--profiles-dir={root}/profiles",
                 "--storage=memory", "--log-level=warning"],
                env={"AGENT_RUNTIME_API_KEY": KEY, "ANTHROPIC_API_KEY": model.api_key,
                     "ANTHROPIC_BASE_URL": model.base_url},
            )  # fmt: skip
            pid = runtime.process.pid
            try:
                async with grpc.aio.insecure_channel(runtime.address) as channel:
                    stub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
                    completed = [await load_one(stub)]
                    one = rss_kib(pid)

                    remaining = list(range(SESSIONS - 1))

                    async def caller() -> None:
                        while remaining:
                            remaining.pop()
                            completed.append(await load_one(stub))

                    await asyncio.gather(*(caller() for _ in range(CALLERS)))
                    many = rss_kib(pid)
                    sandboxes = sum(kib(child, "smaps_rollup", "Pss") for child in descendants(pid))
                    running = len(sandboxes_of(pid))
            finally:
                runtime.stop()
    return {
        "sessions": SESSIONS,
        "runtime_rss_with_one_mib": one / 1024,
        "runtime_rss_mib": many / 1024,
        "runtime_kib_per_idle_session": (many - one) / (SESSIONS - 1),
        # Each sandbox's processes, divided by the sandboxes still running (a turn that failed may have none).
        "turns_completed": sum(completed),
        "sandboxes_running": running,
        "sandbox_processes_kib_per_sandbox": sandboxes / max(running, 1),
    }


def sandboxes_of(runtime: int) -> list[int]:
    """The bwrap of each sandbox the runtime started (their children are the sandboxes' other processes)."""
    return [child for child in _children().get(runtime, []) if _command(child) == b"/usr/bin/bwrap"]


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return b""  # it ended meanwhile
