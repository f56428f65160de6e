"""An `agent-runtime serve` of the bench's own, with one profile ("bench", the Bash tool) on fresh embedded
storage, and a stub to call it with the bench's key, its process id and its data directory."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, profile_pb2
from tests.support import processes

PROFILE = profile_pb2.AgentProfile(id="bench", name="Bench", tools=["Bash"])
KEY = "bench-key"
AUTH = (("authorization", f"Bearer {KEY}"),)


@dataclass(frozen=True)
class BenchRuntime:
    stub: Any
    pid: int
    data_dir: Path


@contextlib.asynccontextmanager
async def bench_runtime(model_environment: dict[str, str]) -> AsyncIterator[BenchRuntime]:
    """`model_environment` gives the model keys and base URLs."""
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / "profiles").mkdir()
        (Path(root) / "profiles" / "bench.json").write_text(json_format.MessageToJson(PROFILE))
        runtime = processes.start(
            ["serve", "--grpc-address=127.0.0.1:0", f"--data-dir={root}/data", f"--profiles-dir={root}/profiles"],
            env={"AGENT_RUNTIME_API_KEY": KEY, **model_environment},
        )
        try:
            async with grpc.aio.insecure_channel(runtime.address) as channel:
                stub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
                yield BenchRuntime(stub, runtime.process.pid, Path(root) / "data")
        finally:
            runtime.stop()
