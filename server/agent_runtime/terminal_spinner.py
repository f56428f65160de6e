"""A spinner beside the sandbox's progress while `sessions send` waits for it, on a terminal only: piped
output gets the plain status lines, which a log or a script can read."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
FRAME_SECONDS = 0.1
CLEAR_LINE = "\r\x1b[K"


class Spinner:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._message = ""
        self._frame = 0
        self._ticking: asyncio.Task[None] | None = None

    def show(self, message: str) -> None:
        """Spins beside `message` until stop(); a later message replaces it on the same line at once."""
        self._message = message
        self._draw()
        if self._ticking is None:
            self._ticking = asyncio.create_task(self._tick())

    def stop(self) -> None:
        if self._ticking is None:
            return
        self._ticking.cancel()
        self._ticking = None
        self._stream.write(CLEAR_LINE)
        self._stream.flush()

    def _draw(self) -> None:
        self._stream.write(f"{CLEAR_LINE}{FRAMES[self._frame % len(FRAMES)]} {self._message}")
        self._stream.flush()

    async def _tick(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(FRAME_SECONDS)
                self._frame += 1
                self._draw()
