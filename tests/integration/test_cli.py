"""`agent-runtime serve` as an operator meets it: its help, its key, its address, its signals."""

from __future__ import annotations

import signal
import stat
import subprocess
from pathlib import Path

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc
from tests.integration.conftest import make_profiles
from tests.support import processes
from tests.support.rpc import bearer, channel


def test_help_documents_every_setting() -> None:
    shown = subprocess.run([processes.CLI, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(shown.split())
    for variable in [
        "GRPC_ADDRESS",
        "HTTP_ADDRESS",
        "DATA_DIR",
        "API_KEY",
        "STORAGE",
        "PROFILES_DIR",
        "IDLE_TIMEOUT",
        "SYNC_INTERVAL",
        "SHUTDOWN_GRACE",
        "HEARTBEAT_INTERVAL",
        "MAX_SUBSCRIBER_LAG",
        "MODEL_BUDGET_TOKENS",
        "SANDBOX",
        "LOG_LEVEL",
        "BUS",
        "REPLICA_ID",
        "ADVERTISE_ADDRESS",
        "LEASE_TTL",
    ]:
        assert f"AGENT_RUNTIME_{variable}" in flat
    # The seed's idleTimeoutMs and syncIntervalMs defaults.
    assert "--idle-timeout" in flat and "(default: 15m)" in flat
    assert "--sync-interval" in flat and "(default: 30s)" in flat


@pytest.mark.parametrize(
    ("flag", "said"),
    [
        ("--bus=redis://127.0.0.1:6379", "is neither 'local' nor a NATS URL"),
        ("--lease-ttl=0s", "a lease lasts more than 0 s and at most 3600 s"),
        ("--lease-ttl=2h", "a lease lasts more than 0 s and at most 3600 s"),
    ],
)
def test_a_fleet_setting_that_cannot_work_is_refused_at_start(flag: str, said: str) -> None:
    refused = subprocess.run([processes.CLI, "serve", flag], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and said in refused.stderr


def serve_without_key(data_dir: Path, profiles_dir: Path) -> processes.ChildProcess:
    return processes.start(
        ["serve", "--grpc-address=127.0.0.1:0", f"--data-dir={data_dir}", f"--profiles-dir={profiles_dir}"],
        env={"AGENT_RUNTIME_API_KEY": ""},
    )


async def list_sessions(address: str, key: str) -> int:
    async with channel(address) as open_channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(open_channel)
        return len((await stub.ListSessions(api.ListSessionsRequest(), metadata=bearer(key))).sessions)


async def test_a_generated_key_is_printed_kept_private_and_reused(tmp_path: Path) -> None:
    profiles_dir = make_profiles(tmp_path / "profiles")
    first = serve_without_key(tmp_path / "data", profiles_dir)
    first.stop()
    key_file = tmp_path / "data" / "api-key"
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert key in first.text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    second = serve_without_key(tmp_path / "data", profiles_dir)
    try:
        assert await list_sessions(second.address, key) == 0
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await list_sessions(second.address, key + "x")
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        second.stop()


def test_a_taken_address_fails_at_start_with_a_clear_message(tmp_path: Path) -> None:
    profiles_dir = make_profiles(tmp_path / "profiles")
    running = serve_without_key(tmp_path / "one", profiles_dir)
    try:
        second = subprocess.run(
            [processes.CLI, "serve", f"--grpc-address={running.address}", f"--data-dir={tmp_path / 'two'}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode != 0
        assert f"cannot listen on {running.address}" in second.stderr
    finally:
        running.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_shuts_down_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    server = serve_without_key(tmp_path / "data", make_profiles(tmp_path / "profiles"))
    assert server.stop(sig) == 0
    assert "stopped" in server.text()


def test_a_data_directory_too_deep_for_the_storage_socket_is_refused_clearly(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    result = subprocess.run(
        [processes.CLI, "serve", "--grpc-address=127.0.0.1:0", f"--data-dir={deep}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "too long for a unix socket" in result.stderr
