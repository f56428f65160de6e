"""An agent CLI's stdout cut into lines as it arrives, in time linear in its length, with a bound on a
line's length: a CLI (or whatever writes to its stdout) that never ends a line cannot hold the runtime's
memory or CPU."""

from __future__ import annotations

import grpc

from agent_runtime.errors import ApiError

MAX_LINE_BYTES = 16 * 1024 * 1024


def line_too_long(limit: int) -> ApiError:
    return ApiError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "AGENT_OUTPUT_LINE_TOO_LONG",
        f"the agent CLI printed a line of over {limit} bytes; the turn was stopped",
    )


class OutputLines:
    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self._limit = limit
        self._partial = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that `data` completes; ApiError AGENT_OUTPUT_LINE_TOO_LONG past the limit."""
        searched = len(self._partial)  # what is already there holds no newline
        self._partial += data
        lines, start = [], 0
        while (end := self._partial.find(b"\n", max(start, searched))) != -1:
            lines.append(bytes(self._partial[start:end]))
            start = end + 1
        del self._partial[:start]
        if len(self._partial) > self._limit or any(len(line) > self._limit for line in lines):
            raise line_too_long(self._limit)
        return lines

    def rest(self) -> bytes:
        """What followed the last newline, once the output has ended."""
        return bytes(self._partial)
