"""An agent CLI's run in the sandbox: its stdout is JSON lines fed to a stream mapper, the tail of its stderr
is kept to explain a failure, and an interrupted run is killed with everything it started."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agent_runtime.agents.output_lines import OutputLines
from agent_runtime.sandboxes.base import Sandbox

TURN_TIMEOUT_SECONDS = 3600.0
STDERR_KEPT_BYTES = 4000


class LineStream(Protocol):
    def feed(self, line: dict[str, Any]) -> None: ...

    def stop(self) -> None:
        """The run is over, however it ended: whatever is still open is closed."""
        ...


@dataclass(frozen=True)
class CliExit:
    returncode: int
    stderr: str


async def run_cli(
    sandbox: Sandbox, argv: Sequence[str], environment: Mapping[str, str], stdin: bytes, stream: LineStream
) -> CliExit:
    # Private: the tools the CLI starts must not write on its stdout in its name.
    execution = await sandbox.exec(argv, env=environment, timeout=TURN_TIMEOUT_SECONDS, private=True)
    stderr = bytearray()
    try:
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
