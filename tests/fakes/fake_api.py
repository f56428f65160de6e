"""A running fake model API on 127.0.0.1, on an ephemeral port, in a thread of its own: what its tests see.

The thread has its own event loop, so the fake keeps answering while the test's loop is blocked (a test that
runs a CLI with `subprocess.run`, or uses a synchronous client).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

from tests.fakes.background import ServedInBackground
from tests.fakes.shared import DEFAULT_SCRIPT, Handler, Recording, Scripts

# How long stopping waits for a request still being answered before cancelling it.
SHUTDOWN_SECONDS = 2.0


class _Scripted(Protocol):
    @property
    def script(self) -> str | None:
        """The script that answered the request, None for one that took no scripted answer."""


AnswerT = TypeVar("AnswerT")
RequestT = TypeVar("RequestT", bound=_Scripted)
FakeT = TypeVar("FakeT", bound="FakeApi[Any, Any]")


class FakeApi(ServedInBackground, Generic[AnswerT, RequestT]):
    """What a client needs (`base_url`, `api_key`), how a test scripts answers (`script`), and what the fake
    saw (`requests`, `unexpected`, `remaining`)."""

    def __init__(
        self, thread_name: str, api_key: str, handler_type: type[Handler[AnswerT, RequestT]], port: int = 0
    ) -> None:
        """`port` 0: an ephemeral one."""
        super().__init__(thread_name)
        self.api_key = api_key
        self.base_url = ""
        self._port = port
        self._handler_type = handler_type
        self._scripts: Scripts[AnswerT] = Scripts()
        self._recording: Recording[RequestT] = Recording()

    def script(self, answers: Iterable[AnswerT], name: str = DEFAULT_SCRIPT) -> None:
        """Appends answers to the script `name`; scripted calls with `x-fake-script: <name>` take them in order
        (calls without the header take from "default")."""
        self._scripts.add(name, answers)

    def repeat(self, answers: Iterable[AnswerT], name: str = DEFAULT_SCRIPT) -> None:
        """The script `name` answers these in order, and again from the first when it has none left."""
        self._scripts.repeat(name, answers)

    def remaining(self, name: str = DEFAULT_SCRIPT) -> int:
        """How many of the script's answers no request has taken yet."""
        return self._scripts.remaining(name)

    def discard(self, name: str = DEFAULT_SCRIPT) -> int:
        """Drops the script's answers that no request took (a test that cannot tell how many it uses)."""
        return self._scripts.discard(name)

    @property
    def requests(self) -> list[RequestT]:
        """Every request so far, in arrival order."""
        return self._recording.requests

    @property
    def text_sent_at(self) -> list[float]:
        """When each streamed answer's first piece of text was written, in time.perf_counter() seconds."""
        return self._recording.text_sent_at

    @property
    def unexpected(self) -> list[str]:
        """The calls the fake did not expect: unknown endpoints, malformed requests, exhausted scripts."""
        return self._recording.unexpected_calls

    def _scripted_requests(self, script: str | None) -> list[RequestT]:
        """The requests that took scripted answers so far, all of them or those that selected `script`."""
        return [
            request
            for request in self._recording.requests
            if request.script is not None and (script is None or request.script == script)
        ]

    async def _serve(self, ready: Callable[[], None], stop: asyncio.Event) -> None:
        """Serves on 127.0.0.1, never on a public interface."""
        app = self._handler_type(self.api_key, self._scripts, self._recording).app()
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        try:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", self._port))
            port = listener.getsockname()[1]
            await web.SockSite(runner, listener).start()
            self.base_url = f"http://127.0.0.1:{port}"
            ready()
            await stop.wait()
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def running(fake: FakeT, fail_on_unexpected: bool, api_name: str) -> AsyncIterator[FakeT]:
    """`fake`, started. On the way out it is stopped and, if `fail_on_unexpected`, raises AssertionError if it got
    a call it did not expect."""
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    if fail_on_unexpected and fake.unexpected:
        raise AssertionError(f"the fake {api_name} got calls it did not expect: {fake.unexpected}")
