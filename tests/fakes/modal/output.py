"""One stdio stream of a fake exec, kept whole so that a reader can (re)start at any byte offset, as the
Task Command Router lets a client resume `TaskExecStdioRead` where it stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

CHUNK_BYTES = 64 * 1024


class OutputBuffer:
    def __init__(self) -> None:
        self._data = bytearray()
        self._closed = False
        self._changed = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed

    def append(self, data: bytes) -> None:
        self._data += data
        self._notify()

    def close(self) -> None:
        self._closed = True
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def read_from(self, offset: int) -> AsyncIterator[bytes]:
        """The bytes from `offset` on, in non-empty chunks (the client rejects empty ones), until closed."""
        while True:
            if offset < len(self._data):
                chunk = bytes(self._data[offset : offset + CHUNK_BYTES])
                offset += len(chunk)
                yield chunk
            elif self._closed:
                return
            else:
                await self._changed.wait()
