"""`agent-runtime sessions ...` and `agent-runtime profiles ...` against a real runtime, as a user types them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

from tests.integration.conftest import API_KEY, Runtime
from tests.support import processes


async def cli(
    runtime: Runtime, *args: str, key: str | None = API_KEY, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENT_RUNTIME_GRPC_ADDRESS": runtime.address}
    env.pop("AGENT_RUNTIME_API_KEY", None)
    if key is not None:
        env["AGENT_RUNTIME_API_KEY"] = key
    return await asyncio.to_thread(
        subprocess.run, [processes.CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )


async def test_sessions_and_profiles_from_the_terminal(runtime: Runtime) -> None:
    created = await cli(
        runtime, "sessions", "create", "--architecture", "anthropic", "--name", "From the CLI", "--json"
    )
    assert created.returncode == 0, created.stderr
    session = json.loads(created.stdout)
    assert (session["name"], session["architecture"]) == ("From the CLI", "anthropic")
    listed = json.loads((await cli(runtime, "sessions", "list", "--json")).stdout)
    assert session["sessionId"] in [s["sessionId"] for s in listed["sessions"]]
    shown = await cli(runtime, "sessions", "get", session["sessionId"])
    assert shown.returncode == 0 and '"name": "From the CLI"' in shown.stdout, "pretty JSON without --json"
    profiles = json.loads((await cli(runtime, "profiles", "list", "--json")).stdout)
    assert "default" in [p["id"] for p in profiles["profiles"]]
    profile = json.loads((await cli(runtime, "profiles", "get", "default", "--json")).stdout)
    assert profile["id"] == "default"
    deleted = json.loads((await cli(runtime, "sessions", "delete", session["sessionId"], "--purge", "--json")).stdout)
    assert deleted["purged"] is True

    gone = await cli(runtime, "sessions", "get", session["sessionId"])
    assert gone.returncode == 1 and "NOT_FOUND, SESSION_NOT_FOUND" in gone.stderr
    refused = await cli(runtime, "sessions", "list", key="wrong")
    assert refused.returncode == 1 and "API_KEY_INVALID" in refused.stderr


async def test_the_key_make_run_generated_is_found_in_the_data_directory(runtime: Runtime, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "api-key").write_text(API_KEY + "\n")
    listed = await cli(runtime, "sessions", "list", "--json", key=None, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    missing = await cli(runtime, "sessions", "list", key=None, cwd=tmp_path / "data")
    assert missing.returncode != 0 and "AGENT_RUNTIME_API_KEY" in missing.stderr


async def test_with_no_runtime_listening_the_cli_says_so(runtime: Runtime) -> None:
    address = f"127.0.0.1:{processes.free_port()}"
    for command in (("sessions", "list"), ("sessions", "watch", "7b7f0f5e-7f55-4d4c-9c39-1f4b8f0c1e11")):
        refused = await cli(runtime, *command, "--address", address)
        assert refused.returncode == 1
        assert refused.stderr.endswith(f"agent-runtime: no runtime at {address} (is `make run` running?)\n")
