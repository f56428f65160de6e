"""An agent CLI's run in the sandbox: its stdout is JSON lines fed to a stream mapper, the tail of its stderr
is kept to explain a failure, and an interrupted run is killed with everything it started. A CLI that is
answered while it runs reads its stdin from a StdinChannel until the channel is closed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agent_runtime.agents.output_lines import OutputLines
from agent_runtime.sandboxes.base import Execution, Sandbox

TURN_TIMEOUT_SECONDS = 3600.0
STDERR_KEPT_BYTES = 4000


class LineStream(Protocol):
    def feed(self, line: dict[str, Any]) -> None: ...

    def stop(self) -> None:
        """The run is over, however it ended: whatever is still open is closed."""
        ...


class StdinChannel:
    """Lines for a running CLI's stdin, written in the order they are sent, until the channel is closed."""

    def __init__(self) -> None:
        self._lines: asyncio.Queue[bytes | None] = asyncio.Queue()

    def send(self, line: Mapping[str, Any]) -> None:
        self._lines.put_nowait(json.dumps(line).encode() + b"\n")

    def close(self) -> None:
        self._lines.put_nowait(None)

    async def pump(self, execution: Execution) -> None:
        while (line := await self._lines.get()) is not None:
            await execution.write_stdin(line)
        await execution.close_stdin()


@dataclass(frozen=True)
class CliExit:
    returncode: int
    stderr: str


async def run_cli(
    sandbox: Sandbox,
    argv: Sequence[str],
    environment: Mapping[str, str],
    stdin: bytes | StdinChannel,
    stream: LineStream,
) -> CliExit:
    # Private: the tools the CLI starts must not write on its stdout in its name.
    execution = await sandbox.exec(argv, env=environment, timeout=TURN_TIMEOUT_SECONDS, private=True)
    stderr = bytearray()
    writing: asyncio.Task[None] | None = None
    try:
        if isinstance(stdin, StdinChannel):
            writing = asyncio.create_task(stdin.pump(execution))
        else:
            if stdin:
                await execution.write_stdin(stdin)
            await execution.close_stdin()
        lines = OutputLines()
        async for chunk in execution.output():
            if chunk.stream == "stderr":
                stderr = (stderr + chunk.data)[-STDERR_KEPT_BYTES:]
                continue
            for raw in lines.feed(chunk.data):
                _feed(stream, raw)
        _feed(stream, lines.rest())
        result = await execution.wait()
    except BaseException:  # interrupted: the CLI must not work on
        stream.stop()
        await asyncio.shield(execution.kill())
        raise
    finally:
        if writing is not None:
            writing.cancel()
    stream.stop()
    return CliExit(result.returncode, stderr.decode(errors="replace").strip())


def _feed(stream: LineStream, raw: bytes) -> None:
    """One stdout line; anything that is not a JSON object (a stray print) is not the protocol."""
    try:
        line: Any = json.loads(raw)
    except ValueError:
        return
    if isinstance(line, dict):
        stream.feed(line)
