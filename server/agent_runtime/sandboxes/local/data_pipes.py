"""Bytes handed to bwrap through descriptors (its --args and --file options), so nothing of them needs a
path on the host that the sandbox could see."""

from __future__ import annotations

import fcntl
import os


class DataPipes:
    """Each call gives a pipe's read end already holding the bytes; close() once bwrap has started."""

    def __init__(self) -> None:
        self.fds: list[int] = []

    def __call__(self, data: bytes) -> int:
        read, write = os.pipe()
        self.fds.append(read)
        try:
            if len(data) > fcntl.fcntl(write, fcntl.F_GETPIPE_SZ):
                fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, len(data))
            view = memoryview(data)
            while view:
                view = view[os.write(write, view) :]
        finally:
            os.close(write)
        return read

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()
