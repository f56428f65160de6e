"""A socket listening inside a sandbox's network namespace, served by the runtime from the host.

The sandbox has no network device but its own loopback; this is how the runtime offers it a service
(the egress proxy, the model proxy) without giving it a way out. A thread enters the namespace with
setns (which moves only the calling thread), binds, and leaves; the socket stays in the namespace.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000


def _bind_in_namespace(pid: int, port: int) -> socket.socket:
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "cannot enter the sandbox's network namespace")
        try:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", port))
            listener.listen(64)
            listener.setblocking(False)
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:
                # This thread stays in the sandbox's namespace; it is discarded with its executor.
                log.error("could not leave a sandbox's network namespace")
    finally:
        os.close(own)
        os.close(target)
    return listener


async def listen_in_namespace(pid: int, port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:port in the network namespace of process `pid`."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="setns") as thread:
        return await asyncio.get_running_loop().run_in_executor(thread, _bind_in_namespace, pid, port)
