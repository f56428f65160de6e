"""A nats-server of a test's own, on a free loopback port: the real Debian server, started and stopped at will.

Each fleet under test gets its own server, so replicas of different tests never hear each other, and a test
may stop it to see the fleet without a bus. `.ci/run` installs the server and sets AGENT_RUNTIME_REQUIRE_NATS,
under which a missing server fails the tests; elsewhere they are skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import NoReturn

import pytest

from tests.support.processes import free_port

START_SECONDS = 10.0


def _unavailable(why: str) -> NoReturn:
    if os.environ.get("AGENT_RUNTIME_REQUIRE_NATS"):
        pytest.fail(why)
    pytest.skip(why)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class NatsServer:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts the server (again, on the same port) and waits until it listens."""
        binary = shutil.which("nats-server", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
        if binary is None:
            _unavailable("the fleet tests need nats-server (Debian package nats-server); it is not installed")
        self.process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_SECONDS
        while not _listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                _unavailable(f"nats-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
