"""A running fake Anthropic API on 127.0.0.1, on an ephemeral port, in a thread of its own.

The thread has its own event loop, so the fake keeps answering while the test's loop is blocked (a test that
runs the Claude Code CLI with `subprocess.run`, or uses the synchronous `Anthropic` client).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterable

from aiohttp import web

from tests.fakes.anthropic.answers import DEFAULT_SCRIPT, Scripts
from tests.fakes.anthropic.app import make_app
from tests.fakes.anthropic.recording import RecordedRequest, Recording
from tests.fakes.anthropic.script import Answer
from tests.fakes.background import ServedInBackground

API_KEY = "sk-ant-fake-0123456789"
# How long stopping waits for a request still being answered before cancelling it.
SHUTDOWN_SECONDS = 2.0


class FakeAnthropic(ServedInBackground):
    """What a client needs (`base_url`, `api_key`), how a test scripts answers (`script`), and what the fake
    saw (`requests`, `message_requests`, `unexpected`, `remaining`)."""

    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__("fake-anthropic")
        self.api_key = api_key
        self.base_url = ""
        self._scripts = Scripts()
        self._recording = Recording()

    def script(self, answers: Iterable[Answer], name: str = DEFAULT_SCRIPT) -> None:
        """Appends answers to the script `name`; requests with `x-fake-script: <name>` take them in order
        (requests without the header take from "default")."""
        self._scripts.add(name, answers)

    def remaining(self, name: str = DEFAULT_SCRIPT) -> int:
        """How many of the script's answers no request has taken yet."""
        return self._scripts.remaining(name)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in arrival order."""
        return self._recording.requests

    def message_requests(self, script: str | None = None) -> list[RecordedRequest]:
        """The `POST /v1/messages` requests so far, all of them or those that selected `script`."""
        return [
            request
            for request in self._recording.requests
            if request.script is not None and (script is None or request.script == script)
        ]

    @property
    def unexpected(self) -> list[str]:
        """The calls the fake did not expect: unknown endpoints, malformed requests, exhausted scripts."""
        return self._recording.unexpected_calls

    async def _serve(self, ready: Callable[[], None], stop: asyncio.Event) -> None:
        runner = web.AppRunner(
            make_app(self.api_key, self._scripts, self._recording), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS
        )
        await runner.setup()
        try:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            port = listener.getsockname()[1]
            await web.SockSite(runner, listener).start()
            self.base_url = f"http://127.0.0.1:{port}"
            ready()
            await stop.wait()
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def running_fake_anthropic(
    answers: Iterable[Answer] = (), *, api_key: str = API_KEY, fail_on_unexpected: bool = True
) -> AsyncIterator[FakeAnthropic]:
    """A started fake whose "default" script holds `answers`. On the way out it is stopped and, unless told
    otherwise, raises AssertionError if it got a call it did not expect."""
    fake = FakeAnthropic(api_key)
    fake.script(answers)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    if fail_on_unexpected and fake.unexpected:
        raise AssertionError(f"the fake Anthropic API got calls it did not expect: {fake.unexpected}")
