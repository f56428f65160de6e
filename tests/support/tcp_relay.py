"""A TCP relay in front of a server, whose connections a test can cut while it keeps listening: a dropped
connection, as a flaky network or a proxy's restart gives a client, with the server still up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class TcpRelay:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._open: set[asyncio.StreamWriter] = set()
        self._clients = 0  # connections relayed now
        self._server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()

    def cut(self) -> int:
        """Closes every connection open now, both ways, and says how many clients it cut off; new
        connections are relayed as before."""
        clients = self._clients
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        self._clients = 0
        return clients

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._open |= {client_writer, server_writer}
        self._clients += 1
        await asyncio.gather(_pump(client_reader, server_writer), _pump(server_reader, client_writer))
        if client_writer in self._open:  # ended by itself, not cut
            self._open -= {client_writer, server_writer}
            self._clients -= 1


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()  # one side ended: so does the other, as a proxy would


@contextlib.asynccontextmanager
async def relaying_to(address: str) -> AsyncIterator[TcpRelay]:
    host, port = address.rsplit(":", 1)
    relay = TcpRelay(host, int(port))
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()
