"""Run the real `agent-runtime` command (or another server that speaks its words) as a child process and
wait until it says where it listens."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLI = str(Path(sys.executable).parent / "agent-runtime")
# The gRPC API's (or a storage server's) line; the REST shim and the model proxy say theirs in their own words.
LISTENING = re.compile(r"agent-runtime (?:gRPC|storage) listening on (\S+)")
REST_LISTENING = re.compile(r"agent-runtime REST listening on (\S+)")
START_TIMEOUT_SECONDS = 30.0
# Runtimes started by tests and benches, here or by a test's own subprocess call, serve REST on a free port:
# several run at once, and none may take a port a developer's `make run` uses.
os.environ.setdefault("AGENT_RUNTIME_HTTP_ADDRESS", "127.0.0.1:0")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ChildProcess:
    """A started server with the address it printed and everything it wrote."""

    process: subprocess.Popen[str]
    address: str
    output: list[str]
    reader: threading.Thread

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Sends `sig` (if still running) and returns the exit code once the process is gone."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def text(self) -> str:
        return "".join(self.output)

    @property
    def rest_address(self) -> str:
        """Where a runtime serves REST (it says so before its gRPC line)."""
        found = REST_LISTENING.search(self.text())
        assert found, f"no REST address in the output:\n{self.text()}"
        return found.group(1)


def start(args: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> ChildProcess:
    """Starts `agent-runtime *args`; fails with the child's output if it exits before listening."""
    return start_program([CLI, *args], env, cwd)


def start_program(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> ChildProcess:
    """Starts a server that prints LISTENING's line; fails with its output if it exits before that."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    output: list[str] = []
    found = threading.Event()
    address: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = LISTENING.search(line)
            if match and not address:
                address.append(match.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    found.wait(START_TIMEOUT_SECONDS)
    child = ChildProcess(process, address[0] if address else "", output, reader)
    if not address:
        child.stop(signal.SIGKILL)
        raise RuntimeError(f"{' '.join(command)} did not start:\n{child.text()}")
    return child
