"""Allowed egress for a sandbox that has no network device: an HTTP CONNECT proxy inside it.

The sandbox's network namespace keeps only its own loopback. When a profile allows hosts, the runtime
opens a listening socket *inside* that namespace (netns.py), so the agent's tools reach the proxy at
127.0.0.1:3128 (HTTPS_PROXY), while every upstream connection is made by the runtime, from the host, to
an allowed host only. A listed name without a port means port 443; "*" allows any name or address on any
port. A name is reached only at a global address, IPv4-mapped ones unmapped first, and never at one of
the host's own: no DNS answer takes the agent to the host's ports or its private networks. An address
written in the allow-list is taken as the operator meant it; under "*", an address is held to the same
rule as a name's."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import socket
from collections.abc import Sequence
from pathlib import Path

from agent_runtime.sandboxes.base import ANY_PUBLIC_HOST
from agent_runtime.sandboxes.local.netns import listen_in_namespace

log = logging.getLogger(__name__)

PROXY_PORT = 3128
CONNECT_TIMEOUT_SECONDS = 15.0
DEFAULT_PORT = 443
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def host_addresses() -> set[Address]:
    """Every address of this host's interfaces (IPv4 from the kernel's local routes, IPv6 from if_inet6)."""
    found: set[Address] = set()
    with contextlib.suppress(OSError):
        for line, after in itertools.pairwise(Path("/proc/net/fib_trie").read_text().splitlines()):
            if "/32 host LOCAL" in after:
                found.add(ipaddress.ip_address(line.split()[-1]))
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            found.add(ipaddress.ip_address(":".join(line.split()[0][i : i + 4] for i in range(0, 32, 4))))
    return found


def reachable(address: Address, own: set[Address]) -> bool:
    """Whether a name may take the agent to this address: global, and not one of the host's `own`."""
    unmapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
    return unmapped.is_global and unmapped not in own


def proxy_environment() -> dict[str, str]:
    url = f"http://127.0.0.1:{PROXY_PORT}"
    return {
        "HTTPS_PROXY": url, "https_proxy": url, "HTTP_PROXY": url, "http_proxy": url,
        "NO_PROXY": "localhost,127.0.0.1", "no_proxy": "localhost,127.0.0.1",
    }  # fmt: skip


class EgressProxy:
    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        self._allowed = {entry.lower() for entry in allowed_hosts}
        self._server: asyncio.Server | None = None

    async def start(self, namespace_pid: int) -> None:
        listener = await listen_in_namespace(namespace_pid, PROXY_PORT)
        self._server = await asyncio.start_server(self._serve, sock=listener)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def _listed(self, host: str, port: int) -> bool:
        return (host in self._allowed and port == DEFAULT_PORT) or f"{host}:{port}" in self._allowed

    async def _upstream_address(self, host: str, port: int) -> str | None:
        """Where to connect, or None when the host may not be reached. Under "*" every name and address is
        allowed, but only at global addresses, never the host's own."""
        listed = self._listed(host, port)
        if not listed and ANY_PUBLIC_HOST not in self._allowed:
            return None
        with contextlib.suppress(ValueError):
            literal = ipaddress.ip_address(host)
            if listed:
                return host  # an address the operator listed
            return host if reachable(literal, host_addresses()) else None
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in infos]
        # Every answer must be reachable: a name with one private answer among public ones is refused.
        own = host_addresses()
        if addresses and all(reachable(address, own) for address in addresses):
            return str(addresses[0])
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
