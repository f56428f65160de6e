"""The Managed Agents API of a runtime whose model is the fake Anthropic API, called by the real `anthropic`
SDK, unmodified, with its base URL pointed at the runtime's HTTP address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic import FakeAnthropic, running_fake_anthropic
from tests.integration.conftest import API_KEY, Runtime, launch, make_profiles

ARGS = ("--heartbeat-interval=0.5s",)
# An agent that asks before it writes a file (and may ask the user questions), and one with a tool its caller runs.
ASKING_PROFILE = """\
name: Asking
tools: [Write, Bash, AskUserQuestion]
permissions:
  rules:
    - rule: Write
      action: PERMISSION_ACTION_ASK
"""
WEATHER_PROFILE = """\
name: Weather
tools: [Bash]
clientTools:
  - name: get_weather
    description: The weather in a city, now.
    inputSchema: {type: object, properties: {city: {type: string}}, required: [city]}
"""


@pytest.fixture(scope="module")
async def fake_model() -> AsyncIterator[FakeAnthropic]:
    async with running_fake_anthropic([]) as fake:
        yield fake


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic) -> Iterator[Runtime]:
    root = tmp_path_factory.mktemp("managed-agents")
    profiles = make_profiles(root / "profiles")
    (profiles / "asking.yaml").write_text(ASKING_PROFILE)
    (profiles / "weather.yaml").write_text(WEATHER_PROFILE)
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, ARGS, env), ARGS, env)
    yield server
    server.process.stop()


def sdk_client(runtime: Runtime, api_key: str = API_KEY) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=f"http://{runtime.process.rest_address}", api_key=api_key, max_retries=0)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with sdk_client(runtime) as opened:
        yield opened


async def say(client: anthropic.AsyncAnthropic, session_id: str, text: str) -> None:
    """Sends a user.message of one text block."""
    await client.beta.sessions.events.send(
        session_id, events=[{"type": "user.message", "content": [{"type": "text", "text": text}]}]
    )


async def until_idle(stream: Any) -> list[Any]:
    """The stream's events up to and with the next session.status_idle."""
    seen = []
    async for event in stream:
        seen.append(event)
        if event.type == "session.status_idle":
            return seen
    raise AssertionError(f"the stream ended before the session was idle: {[e.type for e in seen]}")
