"""What an agent in a local sandbox cannot do: each attempt is contained and the runtime unharmed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import SandboxProvider, SandboxSpec
from agent_runtime.sandboxes.local.provider import BubblewrapProvider
from agent_runtime.sandboxes.local.sandbox import BubblewrapSandbox
from tests.conformance.sandbox.helpers import run, shell
from tests.integration.sandboxes.conftest import REPO, MakeSandbox


async def test_host_files_are_not_there_or_not_readable(make_sandbox: MakeSandbox) -> None:
    other = await make_sandbox()
    await other.write_file("secret.txt", b"other session's secret")
    assert isinstance(other, BubblewrapSandbox)
    sandbox = await make_sandbox()
    probes = {
        "shadow": "cat /etc/shadow",
        "checkout": f"ls {REPO}",
        "root home": "ls /root",
        "other workspace": f"cat {other.workspace}/secret.txt",
        "runtime environment": "cat /proc/1/environ",
        "write /usr": "touch /usr/escape",
        "write /etc": "touch /etc/escape",
    }
    for name, script in probes.items():
        finished = await shell(sandbox, script)
        assert finished.result.exit_code != 0, f"{name}: {finished.stdout!r}"
        assert b"secret" not in finished.stdout
    assert not Path("/usr/escape").exists() and not Path("/etc/escape").exists()


async def test_the_agent_has_no_privileges(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    status = (await shell(sandbox, "grep -E '^(Uid|CapEff|NoNewPrivs)' /proc/self/status")).stdout.decode()
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["Uid"].split()[0] != "0"
    assert int(fields["CapEff"].strip(), 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert (await shell(sandbox, "mount -t tmpfs none /tmp")).result.exit_code != 0


async def test_the_hosts_loopback_is_unreachable(make_sandbox: MakeSandbox) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        sandbox = await make_sandbox()
        connect = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)"
        finished = await run(sandbox, ["python3", "-c", connect])
        assert finished.result.exit_code != 0
        assert b"Connection refused" in finished.stderr or b"unreachable" in finished.stderr
        outside = await run(
            sandbox, ["python3", "-c", "import socket; socket.create_connection(('10.0.0.1', 80), timeout=3)"]
        )
        assert outside.result.exit_code != 0
    finally:
        listener.close()


async def test_a_fork_bomb_is_contained(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(max_processes=64)
    bomb = await shell(sandbox, "bomb() { bomb | bomb & }; bomb", timeout=5)
    assert b"Cannot fork" in bomb.stderr, "the process limit stopped it"
    await sandbox.terminate()
    fresh = await make_sandbox()
    assert (await shell(fresh, "echo fine")).stdout == b"fine\n"


async def test_a_memory_hog_is_stopped(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(memory_bytes=128 * 1024**2)
    hog = await run(sandbox, ["python3", "-c", "b = bytearray(1024 ** 3); print('allocated')"])
    assert hog.result.exit_code != 0
    assert b"allocated" not in hog.stdout
    assert (await shell(sandbox, "echo fine")).stdout == b"fine\n"


async def test_a_cpu_hog_is_stopped(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(cpu_seconds=1)
    hog = await run(sandbox, ["python3", "-c", "while True: pass"], timeout=30)
    assert not hog.result.timed_out, "RLIMIT_CPU, not the wall clock, should stop it"
    assert hog.result.signal in (signal.SIGXCPU, signal.SIGKILL) or hog.result.returncode == 128 + signal.SIGXCPU


async def test_a_huge_file_is_stopped(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox(file_size_bytes=1024**2)
    huge = await shell(sandbox, "dd if=/dev/zero of=huge bs=1M count=20")
    assert huge.result.exit_code != 0
    assert (await sandbox.list_files())[0].size <= 1024**2


def host_processes(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return found.stdout.split()


async def wait_until_gone(marker: str) -> list[str]:
    for _ in range(100):
        left = host_processes(marker)
        if not left:
            return []
        await asyncio.sleep(0.1)
    return host_processes(marker)


async def test_detached_grandchildren_die_on_terminate(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    await shell(sandbox, "setsid sleep 7771 > /dev/null 2>&1 & (sleep 7772 > /dev/null 2>&1 &) ; true")
    assert len(host_processes("sleep 777[12]")) == 2
    await sandbox.terminate()
    assert await wait_until_gone("sleep 777[12]") == []


async def test_a_timed_out_command_takes_its_children_with_it(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    finished = await shell(sandbox, "sleep 7791 & sleep 7792", timeout=1)
    assert finished.result.timed_out
    assert await wait_until_gone("sleep 779[12]") == []


RUNTIME_STAND_IN = """
import asyncio, sys, uuid
from pathlib import Path
from agent_runtime.sandboxes.base import SandboxSpec
from agent_runtime.sandboxes.base import SandboxProvider, SandboxSpec
from agent_runtime.sandboxes.local.provider import BubblewrapProvider

async def main():
    provider = BubblewrapProvider(Path(sys.argv[1]))
    await provider.open()
    sandbox = await provider.create(SandboxSpec(session_id=str(uuid.uuid4())))
    execution = await sandbox.exec(["sh", "-c", "setsid sleep 7781 > /dev/null 2>&1 & echo started"])
    async for _ in execution.output():
        pass
    print("ready", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_every_sandbox_process_dies_with_the_runtime_and_the_next_one_cleans_up(tmp_path: Path) -> None:
    runtime = subprocess.Popen(
        [sys.executable, "-c", RUNTIME_STAND_IN, str(tmp_path / "sandboxes")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert runtime.stdout is not None
        assert runtime.stdout.readline().strip() == "ready"
        assert host_processes("sleep 7781")
        runtime.send_signal(signal.SIGKILL)
        runtime.wait()
        assert await wait_until_gone("sleep 7781") == []
        assert len(list((tmp_path / "sandboxes").iterdir())) == 1, "the dead runtime's sandbox folder is left"
        restarted = BubblewrapProvider(tmp_path / "sandboxes")
        await restarted.open()
        assert list((tmp_path / "sandboxes").iterdir()) == []
        await restarted.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            runtime.kill()
        runtime.wait()
        if runtime.stdout:
            runtime.stdout.close()


async def test_the_runtime_does_not_follow_the_agents_symlinks(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    await shell(sandbox, "ln -s /etc/shadow leak && ln -s /etc etc-link && mkdir real")
    with pytest.raises(ApiError) as read_link:
        await sandbox.read_file("leak")
    assert read_link.value.reason == "NOT_A_REGULAR_FILE"
    with pytest.raises(ApiError) as write_through:
        await sandbox.write_file("etc-link/escaped", b"x")
    assert write_through.value.reason == "NOT_A_REGULAR_FILE"
    assert not Path("/etc/escaped").exists()
    with pytest.raises(ApiError):
        await sandbox.write_file("leak", b"overwrite")
    assert os.stat("/etc/shadow").st_size > 0
    assert [f.path for f in await sandbox.list_files()] == []


CONNECT_THROUGH_PROXY = """
import socket, sys
target = sys.argv[1]
proxy = socket.create_connection(("127.0.0.1", 3128), timeout=10)
proxy.sendall(f"CONNECT {target} HTTP/1.1\\r\\nHost: {target}\\r\\n\\r\\n".encode())
head = b""
while b"\\r\\n\\r\\n" not in head:
    head += proxy.recv(1)
print(head.split(b"\\r\\n")[0].decode(), flush=True)
if b" 200 " in head:
    proxy.sendall(b"ping")
    print(proxy.recv(4).decode())
"""


async def test_egress_reaches_allowed_hosts_only_through_the_proxy(local: SandboxProvider) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(4))
        await writer.drain()
        writer.close()

    allowed = await asyncio.start_server(echo, "127.0.0.1", 0)
    other = await asyncio.start_server(echo, "127.0.0.1", 0)
    allowed_port = allowed.sockets[0].getsockname()[1]
    other_port = other.sockets[0].getsockname()[1]
    spec = SandboxSpec(session_id=str(uuid.uuid4()), allowed_hosts=(f"127.0.0.1:{allowed_port}", "localhost"))
    sandbox = await local.create(spec)
    try:
        through = await run(sandbox, ["python3", "-c", CONNECT_THROUGH_PROXY, f"127.0.0.1:{allowed_port}"])
        assert through.stdout.decode().splitlines() == ["HTTP/1.1 200 Connection established", "ping"]
        unlisted = await run(sandbox, ["python3", "-c", CONNECT_THROUGH_PROXY, f"127.0.0.1:{other_port}"])
        assert unlisted.stdout.decode().splitlines() == ["HTTP/1.1 403 Forbidden"]
        # A listed name that resolves to the host's loopback is refused: no name reaches the host's ports.
        by_name = await run(sandbox, ["python3", "-c", CONNECT_THROUGH_PROXY, f"localhost:{other_port}"])
        assert by_name.stdout.decode().splitlines() == ["HTTP/1.1 403 Forbidden"]
        direct = await run(
            sandbox,
            ["python3", "-c", f"import socket; socket.create_connection(('127.0.0.1', {allowed_port}), timeout=3)"],
        )
        assert direct.result.exit_code != 0, "only the proxy leads out"
        assert b"HTTPS_PROXY=http://127.0.0.1:3128" in (await run(sandbox, ["env"])).stdout
    finally:
        await sandbox.terminate()
        allowed.close()
        other.close()


async def test_shared_memory_is_a_small_tmpfs_of_the_sandboxs_own(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    filled = await shell(sandbox, "dd if=/dev/zero of=/dev/shm/fill bs=1M count=100")
    assert b"No space left on device" in filled.stderr, filled.stderr
    other = await make_sandbox()
    assert (await shell(other, "ls /dev/shm")).stdout == b"", "another sandbox does not see it"
