"""A running fake Gemini API on 127.0.0.1, on an ephemeral port, in a thread of its own (see
`tests.fakes.fake_api`), so that it keeps answering a test that runs the Gemini CLI with `subprocess.run`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

from tests.fakes.fake_api import FakeApi, running
from tests.fakes.gemini.app import GeminiHandler
from tests.fakes.gemini.recording import RecordedRequest
from tests.fakes.gemini.script import Answer

API_KEY = "AIzaFake-0123456789abcdefghijklmnopqrs"


class FakeGemini(FakeApi[Answer, RecordedRequest]):
    """What a client needs (`base_url`, `api_key`), how a test scripts answers (`script`), and what the fake
    saw (`requests`, `generate_requests`, `unexpected`, `remaining`)."""

    def __init__(self, api_key: str = API_KEY, port: int = 0) -> None:
        super().__init__("fake-gemini", api_key, GeminiHandler, port)

    def generate_requests(self, script: str | None = None) -> list[RecordedRequest]:
        """The generate calls that took scripted answers so far, all of them or those that selected `script`."""
        return self._scripted_requests(script)


@contextlib.asynccontextmanager
async def running_fake_gemini(
    answers: Iterable[Answer] = (), *, api_key: str = API_KEY, fail_on_unexpected: bool = True
) -> AsyncIterator[FakeGemini]:
    """A started fake whose "default" script holds `answers`. On the way out it is stopped and, unless told
    otherwise, raises AssertionError if it got a call it did not expect."""
    fake = FakeGemini(api_key)
    fake.script(answers)
    async with running(fake, fail_on_unexpected, "Gemini API"):
        yield fake
