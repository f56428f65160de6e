"""One command running in a local sandbox: its streams, its stdin, its end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from typing import Literal

from agent_runtime.sandboxes.base import OUTPUT_READ_AHEAD_CHUNKS, ExecResult, OutputChunk

CHUNK_BYTES = 64 * 1024
# A background process the command started may hold its stdout open; once the command itself has
# exited, output that stays quiet this long is taken as finished. Long enough for a busy machine to
# deliver what a CLI wrote just before it exited (at 50 ms a Gemini CLI's last lines were lost in CI).
QUIET_AFTER_EXIT_SECONDS = 0.5
POLL_SECONDS = 0.5
# How long an interrupted command has to stop on SIGTERM before it is killed.
STOP_SECONDS = 1.5


class LocalExecution:
    def __init__(self, process: asyncio.subprocess.Process, timeout: float) -> None:
        self._process = process
        self._timed_out = False
        self._result: ExecResult | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._watchdog = asyncio.get_running_loop().call_later(timeout, self._time_out)

    def _time_out(self) -> None:
        self._timed_out = True
        self._kill_group()

    def _kill_group(self, doomed: list[int] | None = None) -> None:
        # The command's whole process group on the host (nsenter, the command and its children), and
        # descendants that made sessions of their own (an agent CLI runs its tools that way): `doomed`, or as
        # found now.
        doomed = _descendants(self._process.pid) if doomed is None else doomed
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    async def output(self) -> AsyncIterator[OutputChunk]:
        queue: asyncio.Queue[OutputChunk | None] = asyncio.Queue(OUTPUT_READ_AHEAD_CHUNKS)

        async def pump(stream: asyncio.StreamReader | None, name: Literal["stdout", "stderr"]) -> None:
            assert stream is not None
            while chunk := await stream.read(CHUNK_BYTES):
                await queue.put(OutputChunk(name, chunk))
            await queue.put(None)

        pumps = [asyncio.create_task(pump(self._process.stdout, "stdout")),
                 asyncio.create_task(pump(self._process.stderr, "stderr"))]  # fmt: skip
        self._pumps = pumps
        open_streams = len(pumps)
        try:
            while open_streams:
                exited = self._process.returncode is not None
                try:
                    item = await asyncio.wait_for(queue.get(), QUIET_AFTER_EXIT_SECONDS if exited else POLL_SECONDS)
                except TimeoutError:
                    if exited:
                        return
                    continue
                if item is None:
                    open_streams -= 1
                else:
                    yield item
        finally:
            for task in pumps:
                task.cancel()

    async def write_stdin(self, data: bytes) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(data)
            await stdin.drain()

    async def close_stdin(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.close()
            await stdin.wait_closed()

    async def wait(self) -> ExecResult:
        if self._result is None:
            code = await self._process.wait()
            self._watchdog.cancel()
            if code < 0:
                self._result = ExecResult(exit_code=None, signal=-code, timed_out=self._timed_out)
            else:
                self._result = ExecResult(exit_code=code, timed_out=self._timed_out)
        return self._result

    async def kill(self) -> None:
        # Asked to stop first, so a program that keeps state as it goes (an agent CLI's transcript) writes it
        # out; whatever is left a moment later, and everything the command started, is killed.
        doomed = _descendants(self._process.pid)  # read before the command ends and its children move away
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._process.wait()), STOP_SECONDS)
        self._kill_group([*doomed, *_descendants(self._process.pid)])
        # Nobody reads on: what the command left in its pipes is read to their end, so they close (the
        # process is not waited for until they have).
        for task in self._pumps:
            task.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_read_to_end(stream), QUIET_AFTER_EXIT_SECONDS)
        await self.wait()


async def _read_to_end(stream: asyncio.StreamReader) -> None:
    while await stream.read(CHUNK_BYTES):
        pass


def _descendants(root: int) -> list[int]:
    """Every live process below `root`, read from /proc (a process's parent is the 4th field of its stat,
    after the command name in parentheses, which may itself hold spaces)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile
        children.setdefault(parent, []).append(int(entry))
    found, pending = [], [root]
    while pending:
        below = children.get(pending.pop(), [])
        found.extend(below)
        pending.extend(below)
    return found
