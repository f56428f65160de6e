"""A command's output kept within a bound while it is read: its first and last parts, and how much of the
middle was left out, however much the command prints (it may print gigabytes)."""

from __future__ import annotations


class CappedOutput:
    def __init__(self, limit_bytes: int) -> None:
        self._head_limit = limit_bytes // 2
        self._tail_limit = limit_bytes - self._head_limit
        self._head = bytearray()
        self._tail = bytearray()
        self.cut_bytes = 0

    def add(self, data: bytes) -> None:
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        self._tail += data
        excess = len(self._tail) - self._tail_limit
        if excess > 0:
            del self._tail[:excess]
            self.cut_bytes += excess

    def text(self) -> str:
        if not self.cut_bytes:
            return (self._head + self._tail).decode(errors="replace")
        head, tail = self._head.decode(errors="replace"), self._tail.decode(errors="replace")
        return f"{head}\n[... {self.cut_bytes} bytes of output cut ...]\n{tail}"
