"""How soon the `agent-runtime` command is ready: `--help` and a client command's `--help`, beside a bare
`python -c pass` of the same interpreter in the same run. A client command loads no server code."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROUNDS = 10
COMMAND = str(Path(sys.executable).with_name("agent-runtime"))


def seconds(argv: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def median_ms(argv: Sequence[str]) -> float:
    return statistics.median(seconds(argv) for _ in range(ROUNDS)) * 1000


async def measure() -> dict[str, float]:
    bare = median_ms([sys.executable, "-c", "pass"])
    help_ms = median_ms([COMMAND, "--help"])
    client_ms = median_ms([COMMAND, "sessions", "send", "--help"])
    return {
        "bare_python_ms": bare,
        "help_ms": help_ms,
        "sessions_send_help_ms": client_ms,
        "sessions_send_help_vs_bare": client_ms / bare,
    }
