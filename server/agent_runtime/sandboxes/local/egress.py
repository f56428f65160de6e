"""Allowed egress for a sandbox that has no network device: an HTTP CONNECT proxy inside it.

The sandbox's network namespace keeps only its own loopback. When a profile allows hosts, the runtime
opens a listening socket *inside* that namespace (a thread enters it with setns, binds, and leaves),
so the agent's tools reach the proxy at 127.0.0.1:3128 (HTTPS_PROXY), while every upstream connection
is made by the runtime, from the host, to an allowed host only. A host name that resolves to a
loopback, link-local or unspecified address is refused (no DNS trick reaches the host's own ports); an
address written in the allow-list is taken as the operator meant it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ipaddress
import logging
import os
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

PROXY_PORT = 3128
CLONE_NEWNET = 0x40000000
CONNECT_TIMEOUT_SECONDS = 15.0


def proxy_environment() -> dict[str, str]:
    url = f"http://127.0.0.1:{PROXY_PORT}"
    return {
        "HTTPS_PROXY": url, "https_proxy": url, "HTTP_PROXY": url, "http_proxy": url,
        "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1",
    }  # fmt: skip


def _socket_in_namespace(pid: int) -> socket.socket:
    """A socket listening on 127.0.0.1:PROXY_PORT in the network namespace of `pid` (runs on its own
    thread: setns changes only the calling thread's namespace)."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "cannot enter the sandbox's network namespace")
        try:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", PROXY_PORT))
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


class EgressProxy:
    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        self._allowed = {entry.lower() for entry in allowed_hosts}
        self._server: asyncio.Server | None = None

    async def start(self, namespace_pid: int) -> None:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="egress-setns") as thread:
            listener = await asyncio.get_running_loop().run_in_executor(thread, _socket_in_namespace, namespace_pid)
        self._server = await asyncio.start_server(self._serve, sock=listener)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def _is_allowed(self, host: str, port: int) -> bool:
        return host in self._allowed or f"{host}:{port}" in self._allowed

    async def _upstream_address(self, host: str, port: int) -> str | None:
        """Where to connect, or None when the host may not be reached."""
        if not self._is_allowed(host, port):
            return None
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host)
            return host  # an address the operator listed
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for *_, sockaddr in infos:
            address = ipaddress.ip_address(sockaddr[0])
            if not (address.is_loopback or address.is_link_local or address.is_unspecified):
                return str(address)
        return None

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            client_writer.close()
            return
        method, _, rest = head.decode("latin-1").partition(" ")
        target = rest.split(" ", 1)[0]
        host, _, port_text = target.rpartition(":")
        if method != "CONNECT" or not port_text.isdigit():
            await self._refuse(client_writer, "405 Method Not Allowed", "only CONNECT tunnels are served")
            return
        host, port = host.strip("[]").lower(), int(port_text)
        try:
            address = await self._upstream_address(host, port)
            if address is None:
                await self._refuse(client_writer, "403 Forbidden", f"egress to {host}:{port} is not allowed")
                return
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(address, port), CONNECT_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError) as error:
            await self._refuse(client_writer, "502 Bad Gateway", f"cannot reach {host}:{port}: {error}")
            return
        client_writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await client_writer.drain()
        await asyncio.gather(
            _pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer), return_exceptions=True
        )

    @staticmethod
    async def _refuse(writer: asyncio.StreamWriter, status: str, why: str) -> None:
        body = f"agent-runtime: {why}\n".encode()
        writer.write(f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()
