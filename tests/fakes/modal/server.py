"""A running fake Modal: the control plane and the command router on 127.0.0.1, in a thread of their own.

The thread has its own event loop, so the fake serves whatever loop (or thread, like the `modal` client's
synchronicity thread) its clients use. On the way out every sandbox is ended, its processes killed and
reaped, and its folders removed, before the loop closes.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import socket
import tempfile
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from grpclib.protocol import H2Protocol
from grpclib.server import Server

from tests.fakes.background import ServedInBackground
from tests.fakes.modal.calls import answering_unimplemented
from tests.fakes.modal.command_router import CommandRouter
from tests.fakes.modal.container import mount_namespaces_work
from tests.fakes.modal.control_plane import ControlPlane
from tests.fakes.modal.state import FakeModalState

T = TypeVar("T")

TOKEN_ID = "ak-fake-token-id"
TOKEN_SECRET = "as-fake-token-secret"


class _Server(Server):
    """grpclib's Server, able to drop the connections clients left open: its close() only refuses new ones,
    and a connection still open when the loop closes would leak its socket."""

    def __init__(self, handlers: list[Any]) -> None:
        super().__init__(handlers)
        self._protocols: weakref.WeakSet[H2Protocol] = weakref.WeakSet()

    def _protocol_factory(self) -> H2Protocol:
        protocol = super()._protocol_factory()
        self._protocols.add(protocol)
        return protocol

    def drop_connections(self) -> None:
        for protocol in list(self._protocols):
            if hasattr(protocol, "processor"):  # set once connected
                protocol.processor.close("the fake Modal is stopping")


class FakeModal(ServedInBackground):
    """What a client needs to reach the fake (`server_url`, `token_id`, `token_secret`) and what the fake
    saw (`unimplemented`, or anything else through `inspect`, such as `state.log.calls`)."""

    def __init__(self, token_id: str = TOKEN_ID, token_secret: str = TOKEN_SECRET) -> None:
        super().__init__("fake-modal")
        self.token_id = token_id
        self.token_secret = token_secret
        self.server_url = ""
        self._host_dir = Path(tempfile.mkdtemp(prefix="fake-modal-"))
        self._state = FakeModalState(token_id, token_secret, self._host_dir)

    @property
    def unimplemented(self) -> list[str]:
        """The RPCs (and fs-tools commands) a client called that the fake does not implement."""
        return list(self._state.log.unimplemented)

    @property
    def mount_namespaces(self) -> bool:
        """Whether containers see their /workspace at that path (bubblewrap works here)."""
        return mount_namespaces_work()

    async def inspect(self, look: Callable[[FakeModalState], T]) -> T:
        """`look(state)`, run on the fake's own loop so that it sees a consistent state."""
        assert self._loop is not None

        async def run() -> T:
            return look(self._state)

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self._loop))

    async def start(self) -> None:
        atexit.register(self._kill_leftovers)
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        await asyncio.to_thread(shutil.rmtree, self._host_dir, True)
        atexit.unregister(self._kill_leftovers)

    def _kill_leftovers(self) -> None:
        """At interpreter exit without stop() (a crashed run): no container process may outlive the tests."""
        for sandbox in list(self._state.sandboxes.values()):
            sandbox.container.kill_all()

    async def _serve(self, ready: Callable[[], None], stop: asyncio.Event) -> None:
        await asyncio.to_thread(mount_namespaces_work)  # decided once, before the first exec needs it
        control_plane = _Server([answering_unimplemented(ControlPlane)(self._state)])
        router = _Server([answering_unimplemented(CommandRouter)(self._state)])
        control_port = await _start(control_plane)
        self._state.router_url = f"http://127.0.0.1:{await _start(router)}"
        self.server_url = f"http://127.0.0.1:{control_port}"
        ready()
        try:
            await stop.wait()
        finally:
            for sandbox in list(self._state.sandboxes.values()):
                await sandbox.remove()
            for server in (control_plane, router):
                server.close()
                server.drop_connections()
                await server.wait_closed()
            await asyncio.sleep(0)  # the dropped connections' transports finish closing


async def _start(server: _Server) -> int:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    await server.start(sock=listener)
    return port


@contextlib.asynccontextmanager
async def running_fake_modal(*, fail_on_unimplemented: bool = True, **credentials: Any) -> AsyncIterator[FakeModal]:
    """A started fake; on the way out it is stopped and, unless told otherwise, raises AssertionError if any
    client called an RPC it does not implement (so a `modal` upgrade needing new ones cannot pass unseen)."""
    fake = FakeModal(**credentials)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    if fail_on_unimplemented and fake.unimplemented:
        raise AssertionError(f"the modal client called RPCs the fake does not implement: {fake.unimplemented}")
