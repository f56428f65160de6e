"""A running fake Anthropic API on 127.0.0.1, on an ephemeral port, in a thread of its own (see
`tests.fakes.fake_api`), so that it keeps answering a test that runs the Claude Code CLI with `subprocess.run` or
uses the synchronous `Anthropic` client.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

from tests.fakes.anthropic.app import AnthropicHandler
from tests.fakes.anthropic.recording import RecordedRequest
from tests.fakes.anthropic.script import Answer
from tests.fakes.fake_api import FakeApi, running

API_KEY = "sk-ant-fake-0123456789"


class FakeAnthropic(FakeApi[Answer, RecordedRequest]):
    """What a client needs (`base_url`, `api_key`), how a test scripts answers (`script`), and what the fake
    saw (`requests`, `message_requests`, `unexpected`, `remaining`)."""

    def __init__(self, api_key: str = API_KEY, port: int = 0) -> None:
        super().__init__("fake-anthropic", api_key, AnthropicHandler, port)

    def message_requests(self, script: str | None = None) -> list[RecordedRequest]:
        """The `POST /v1/messages` requests so far, all of them or those that selected `script`."""
        return self._scripted_requests(script)


@contextlib.asynccontextmanager
async def running_fake_anthropic(
    answers: Iterable[Answer] = (), *, api_key: str = API_KEY, fail_on_unexpected: bool = True
) -> AsyncIterator[FakeAnthropic]:
    """A started fake whose "default" script holds `answers`. On the way out it is stopped and, unless told
    otherwise, raises AssertionError if it got a call it did not expect."""
    fake = FakeAnthropic(api_key)
    fake.script(answers)
    async with running(fake, fail_on_unexpected, "Anthropic API"):
        yield fake
