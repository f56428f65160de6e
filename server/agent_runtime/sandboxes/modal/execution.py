"""One command running in a Modal sandbox: its streams, its stdin, its end, and how to stop it.

Modal has no call that kills an exec, so every command runs under a small `sh` wrapper that starts it
in a session of its own (so a kill reaches its children) and notes its process id in the container's
/tmp; killing is another exec that signals that session. The same wrapper turns a command that does not
exist into exit code 127 with a message naming it, the local provider's convention.

The time limit is kept here: on expiry the command is killed and the result says `timed_out`. Modal is
also given the limit, with a margin, as a backstop should the runtime be gone by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

import modal
import modal.exception
from modal.container_process import ContainerProcess

from agent_runtime.sandboxes.base import OUTPUT_READ_AHEAD_CHUNKS, ExecResult, OutputChunk
from agent_runtime.sandboxes.modal.translation import provider_error

LOG = logging.getLogger(__name__)

# $1 exec id, $2 working folder relative to the workspace ("" for the workspace), then the command.
WRAPPER = r"""
id=$1; cwd=$2; shift 2
if [ -n "$cwd" ] && ! cd -- "$cwd" 2>/dev/null; then
  printf 'agent-runtime: no folder %s in the workspace\n' "$cwd" >&2; exit 2
fi
if ! command -v -- "$1" >/dev/null 2>&1; then
  printf 'agent-runtime: command not found: %s\n' "$1" >&2; exit 127
fi
pidfile="${TMPDIR:-/tmp}/agent-runtime-exec-$id.pid"
exec 3<&0
setsid "$@" 0<&3 3<&- &
child=$!
exec 3<&-
echo "$child" > "$pidfile"
wait "$child" 2>/dev/null  # quiet: no "Killed" from the shell when the command dies by a signal
status=$?
rm -f -- "$pidfile"
exit "$status"
"""

# $1 exec id. Waits briefly for the wrapper to note the process id, then kills the command's session.
KILLER = r"""
pidfile="${TMPDIR:-/tmp}/agent-runtime-exec-$1.pid"
i=0
while [ ! -s "$pidfile" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
pid=$(cat "$pidfile" 2>/dev/null) || exit 0
kill -s KILL -- "-$pid" 2>/dev/null || kill -s KILL -- "$pid" 2>/dev/null
exit 0
"""

# Extra seconds Modal waits past the runtime's own limit before it ends the command itself.
BACKSTOP_SECONDS = 30
STDIN_CHUNK_BYTES = 1024 * 1024
# A background process the command started may hold its output open; once the command has ended,
# output that stays quiet this long is taken as finished.
QUIET_AFTER_EXIT_SECONDS = 1.0


class ModalExecution:
    def __init__(
        self,
        handle: modal.Sandbox,
        process: ContainerProcess[bytes],
        exec_id: str,
        timeout: float,
        on_end: Callable[[], Awaitable[None]],
    ) -> None:
        self._handle = handle
        self._process = process
        self._exec_id = exec_id
        self._on_end = on_end
        self._killed = False
        self._timed_out = False
        self._result: asyncio.Future[ExecResult] = asyncio.get_running_loop().create_future()
        self._result.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen, even unawaited
        self._supervisor = asyncio.create_task(self._supervise(timeout))

    @classmethod
    async def start(
        cls,
        handle: modal.Sandbox,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        timeout: float,
        on_end: Callable[[], Awaitable[None]],
    ) -> ModalExecution:
        exec_id = uuid.uuid4().hex
        process = await handle.exec.aio(
            "/bin/sh",
            "-c",
            WRAPPER,
            "agent-runtime-exec",
            exec_id,
            cwd,
            *argv,
            env=dict(env),
            timeout=math.ceil(timeout) + BACKSTOP_SECONDS,
            text=False,
        )
        return cls(handle, process, exec_id, timeout, on_end)

    async def _supervise(self, timeout: float) -> None:
        watchdog = asyncio.create_task(self._time_out_after(timeout))
        try:
            result = await self._wait_remote()
        except Exception as error:
            self._result.set_exception(error)
            return
        finally:
            if self._timed_out:
                await watchdog  # let the kill finish rather than cut it off
            else:
                watchdog.cancel()
        try:
            await self._on_end()
        except Exception:
            LOG.exception("after the exec ended in sandbox %s", self._handle.object_id)
        self._result.set_result(result)

    async def _time_out_after(self, timeout: float) -> None:
        await asyncio.sleep(timeout)
        self._timed_out = True
        await self._kill_remote()

    async def _wait_remote(self) -> ExecResult:
        try:
            code = await self._process.wait.aio()
        except modal.exception.Error as error:
            # The task is gone: the sandbox ended (terminated, timed out) and took the command with it.
            if await self._sandbox_ended():
                return ExecResult(exit_code=None, signal=signal.SIGKILL, timed_out=self._timed_out)
            raise provider_error(self._handle.object_id, error) from error
        if code == -1:  # Modal's own deadline (the backstop) passed first
            self._timed_out = True
        if self._killed or self._timed_out:
            return ExecResult(exit_code=None, signal=signal.SIGKILL, timed_out=self._timed_out)
        return ExecResult(exit_code=code)

    async def _sandbox_ended(self) -> bool:
        try:
            return (await self._handle.poll.aio()) is not None
        except modal.exception.Error:
            return True  # detached or unreachable: the command cannot be followed any more

    async def _kill_remote(self) -> None:
        with contextlib.suppress(modal.exception.Error):
            killer = await self._handle.exec.aio(
                "/bin/sh", "-c", KILLER, "agent-runtime-kill", self._exec_id, timeout=60, text=False
            )
            await killer.wait.aio()

    async def output(self) -> AsyncIterator[OutputChunk]:
        queue: asyncio.Queue[OutputChunk | None] = asyncio.Queue(OUTPUT_READ_AHEAD_CHUNKS)

        async def pump(name: Literal["stdout", "stderr"]) -> None:
            reader = self._process.stdout if name == "stdout" else self._process.stderr
            try:
                async for data in reader:
                    if data:
                        await queue.put(OutputChunk(name, data))
            except modal.exception.Error:
                pass  # the sandbox ended: so did the output
            await queue.put(None)

        pumps = [asyncio.create_task(pump("stdout")), asyncio.create_task(pump("stderr"))]
        open_streams = len(pumps)
        try:
            while open_streams:
                if self._result.done():
                    try:
                        item = await asyncio.wait_for(queue.get(), QUIET_AFTER_EXIT_SECONDS)
                    except TimeoutError:
                        return
                else:
                    getting = asyncio.ensure_future(queue.get())
                    racing: set[asyncio.Future[Any]] = {getting, self._result}
                    await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
                    if not getting.done():
                        getting.cancel()
                        continue
                    item = getting.result()
                if item is None:
                    open_streams -= 1
                else:
                    yield item
        finally:
            for task in pumps:
                task.cancel()

    async def write_stdin(self, data: bytes) -> None:
        try:
            for start in range(0, len(data), STDIN_CHUNK_BYTES):
                self._process.stdin.write(data[start : start + STDIN_CHUNK_BYTES])
                await self._process.stdin.drain.aio()
        except modal.exception.Error as error:
            if not await self._has_ended():
                raise provider_error(self._handle.object_id, error) from error
            # else: the command has ended, which is not the writer's failure (like a closed pipe)

    async def _has_ended(self) -> bool:
        if self._result.done():
            return True
        try:
            return (await self._process.poll.aio()) is not None
        except modal.exception.Error:
            return True

    async def close_stdin(self) -> None:
        with contextlib.suppress(modal.exception.Error):
            self._process.stdin.write_eof()
            await self._process.stdin.drain.aio()

    async def wait(self) -> ExecResult:
        return await asyncio.shield(self._result)

    async def kill(self) -> None:
        if not self._result.done():
            self._killed = True
            await self._kill_remote()
        await self.wait()
