"""The commands a fake container runs: host subprocesses, or work the fake answers itself (fs-tools).

Either way an exec is what the Task Command Router exposes: two output streams readable from any offset,
a stdin written at offsets (a repeated write is ignored, as the router does), and an exit status.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tests.fakes.modal.output import CHUNK_BYTES, OutputBuffer


@dataclass(frozen=True)
class ExitStatus:
    code: int | None = None
    signal: int | None = None

    def fields(self) -> dict[str, int]:
        """As the `exit_status` oneof of TaskExecPollResponse and TaskExecWaitResponse."""
        return {"code": self.code} if self.code is not None else {"signal": self.signal or 0}


class StdinGap(Exception):
    """A stdin write starts past the bytes written so far."""


class StdinClosed(Exception):
    """Stdin was written after the command closed it or ended."""


class FakeExec(abc.ABC):
    def __init__(self) -> None:
        self.stdout = OutputBuffer()
        self.stderr = OutputBuffer()
        self.exit: asyncio.Future[ExitStatus] = asyncio.get_running_loop().create_future()
        self.stdin_written = 0
        self.stdin_closed = False
        self._stdin_lock = asyncio.Lock()

    async def write_stdin(self, offset: int, data: bytes, eof: bool) -> None:
        async with self._stdin_lock:
            if offset > self.stdin_written:
                raise StdinGap(f"stdin write at offset {offset}, but only {self.stdin_written} bytes were written")
            new = data[self.stdin_written - offset :]
            if new:
                if self.stdin_closed or self.exit.done():
                    raise StdinClosed("the command's stdin is closed")
                await self._feed(new)
                self.stdin_written += len(new)
            if eof and not self.stdin_closed:
                self.stdin_closed = True
                await self._end_stdin()

    @abc.abstractmethod
    async def _feed(self, data: bytes) -> None: ...

    @abc.abstractmethod
    async def _end_stdin(self) -> None: ...

    @abc.abstractmethod
    def kill(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None:
        """Returns once the command is reaped and its streams are closed."""


StderrMode = Literal["pipe", "devnull", "stdout"]


class SubprocessExec(FakeExec):
    def __init__(self, process: asyncio.subprocess.Process, timeout_secs: int) -> None:
        super().__init__()
        self._process = process
        self._tasks = [
            asyncio.create_task(self._pump(process.stdout, self.stdout)),
            asyncio.create_task(self._pump(process.stderr, self.stderr)),
            asyncio.create_task(self._reap()),
        ]
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(timeout_secs, self.kill) if timeout_secs else None

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path | None,
        env: Mapping[str, str],
        pipe_stdout: bool,
        stderr: StderrMode,
        timeout_secs: int,
    ) -> FakeExec:
        pipe, devnull = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=dict(env),
                stdin=pipe,
                stdout=pipe if pipe_stdout else devnull,
                stderr={"pipe": pipe, "devnull": devnull, "stdout": asyncio.subprocess.STDOUT}[stderr],
                start_new_session=True,  # its own process group, so kill() reaches its children too
            )
        except OSError as error:  # what a container runtime says when the program cannot be run
            message = f"exec {argv[0]!r}: {error.strerror}\n".encode()
            return AnsweredExec(lambda _stdin: (127, b"", message), reads_stdin=False)
        return cls(process, timeout_secs)

    @staticmethod
    async def _pump(stream: asyncio.StreamReader | None, buffer: OutputBuffer) -> None:
        try:
            while stream is not None and (chunk := await stream.read(CHUNK_BYTES)):
                buffer.append(chunk)
        finally:
            buffer.close()

    async def _reap(self) -> None:
        code = await self._process.wait()
        if self._timer is not None:
            self._timer.cancel()
        self.exit.set_result(ExitStatus(signal=-code) if code < 0 else ExitStatus(code=code))
        async with self._stdin_lock:
            await self._end_stdin()

    async def _feed(self, data: bytes) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(data)
            await self._process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as error:
            raise StdinClosed("the command closed its stdin") from error

    async def _end_stdin(self) -> None:
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._process.stdin.close()
            await self._process.stdin.wait_closed()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)

    async def close(self) -> None:
        await asyncio.gather(*self._tasks)


class AnsweredExec(FakeExec):
    """An exec whose outcome the fake computes: `answer(stdin) -> (exit code, stdout, stderr)`, run once
    stdin is closed when `reads_stdin`, else at once."""

    def __init__(self, answer: Callable[[bytes], tuple[int, bytes, bytes]], *, reads_stdin: bool) -> None:
        super().__init__()
        self._answer = answer
        self._stdin = bytearray()
        if not reads_stdin:
            self._finish()

    def _finish(self) -> None:
        if self.exit.done():
            return
        code, out, err = self._answer(bytes(self._stdin))
        for buffer, data in ((self.stdout, out), (self.stderr, err)):
            if data:
                buffer.append(data)
            buffer.close()
        self.exit.set_result(ExitStatus(code=code))

    async def _feed(self, data: bytes) -> None:
        self._stdin += data

    async def _end_stdin(self) -> None:
        self._finish()

    def kill(self) -> None:
        if not self.exit.done():
            self.stdout.close()
            self.stderr.close()
            self.exit.set_result(ExitStatus(signal=signal.SIGKILL))

    async def close(self) -> None:
        return None
