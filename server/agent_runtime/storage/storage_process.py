"""The embedded storage server in a child process of its own, started again whenever it dies.

In its own process storage work has its own core and its own event loop, so a burst of writes or a slow
query never delays a stream in the runtime; the runtime's writes wait (and retry) through an outage of
a second or so, as they would through any storage server's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

from agent_runtime.storage.embedded_child import READY

log = logging.getLogger(__name__)

# Soon enough that storage calls' own retries ride out the gap; longer apart while it keeps failing.
FIRST_RESTART_DELAY_SECONDS = 0.2
MAX_RESTART_DELAY_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 15.0  # the child's own grace for in-flight calls, with room to close the database


class StorageProcess:
    def __init__(self, database: str, profiles_dir: Path, address: str) -> None:
        self.address = address
        self._config = json.dumps(
            {
                "database": database,
                "profiles_dir": str(profiles_dir),
                "address": address,
                "log_level": logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower(),
            }
        ).encode()
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> None:
        """Returns once the child serves; OSError if it exits first (its log, on our stderr, says why)."""
        self._process = await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
        if self._process is not None:
            await _stop(self._process)

    async def _spawn(self) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent_runtime.storage.embedded_child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,  # out of the terminal's process group: Ctrl-C is the runtime's to handle
        )
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(self._config + b"\n")
            await process.stdin.drain()
            if await process.stdout.readline() != READY:
                status = await process.wait()
                raise OSError(f"the embedded storage server exited with status {status} before serving")
        except BaseException:
            await _stop(process)
            raise
        log.info("embedded storage server serving on %s (pid %d)", self.address, process.pid)
        return process

    async def _supervise(self) -> None:
        assert self._process is not None
        while True:
            status = await self._process.wait()
            log.error("the embedded storage server exited (status %s); starting it again", status)
            delay = FIRST_RESTART_DELAY_SECONDS
            while True:
                await asyncio.sleep(delay)
                try:
                    self._process = await self._spawn()
                    break
                except OSError as error:
                    log.error("%s; trying again", error)
                    delay = min(delay * 2, MAX_RESTART_DELAY_SECONDS)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Closes the child's stdin, which stops it; kills it if it has not gone in time."""
    if process.returncode is not None:
        return
    assert process.stdin is not None
    process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("the embedded storage server did not stop in %.0fs; killing it", STOP_TIMEOUT_SECONDS)
        process.kill()
        await process.wait()
