"""The console through lost connections mid-turn: cut between the page and a runtime that stays up, or
dropped by the runtime's restart (it comes back on the same address). Either way the page reconnects and
shows the turn to its end, nothing twice."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import Runtime, launch, make_profiles
from tests.integration.console.conftest import new_session_with_message
from tests.integration.managed_agents.conftest import ARGS, fake_model, runtime  # noqa: F401  # fixtures too
from tests.support.tcp_relay import relaying_to


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def fixed_runtime(tmp_path_factory: pytest.TempPathFactory, fake_model: FakeAnthropic) -> Iterator[Runtime]:  # noqa: F811
    """A runtime that comes back on the same HTTP address when it restarts, as a page's origin needs."""
    root = tmp_path_factory.mktemp("console-restart")
    profiles = make_profiles(root / "profiles")
    args = (*ARGS, f"--http-address=127.0.0.1:{free_port()}")
    env = {"ANTHROPIC_API_KEY": fake_model.api_key, "ANTHROPIC_BASE_URL": fake_model.base_url}
    server = Runtime(root / "data", profiles, launch(root / "data", profiles, args, env), args, env)
    yield server
    server.process.stop()


async def test_the_console_recovers_from_a_runtime_restart_mid_turn(
    browser: Browser,
    fixed_runtime: Runtime,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3; echo rested"}), Turn.text("Back after a rest.")])
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"http://{fixed_runtime.process.rest_address}/")
    await new_session_with_message(page, "Rest a while")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Bash")

    await asyncio.to_thread(fixed_runtime.restart)

    await expect(conversation.get_by_test_id("assistant-text")).to_contain_text("Back after a rest.", timeout=60_000)
    await expect(conversation.get_by_test_id("user-message")).to_have_count(1)
    await expect(conversation.get_by_test_id("tool-use")).to_have_count(1)
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    await context.close()


async def test_the_console_resumes_when_its_connections_are_cut_mid_turn(
    browser: Browser,
    runtime: Runtime,  # noqa: F811
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3; echo rested"}), Turn.text("Back after a cut.")])
    async with relaying_to(runtime.process.rest_address) as relay:
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(f"http://{relay.address}/")
        await new_session_with_message(page, "Rest a while")
        conversation = page.get_by_test_id("conversation")
        await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Bash")

        cut_off = relay.cut()  # while the command sleeps: the page's event streams end before the turn does
        assert cut_off >= 2, "the session list's and the conversation's streams were open"

        await expect(conversation.get_by_test_id("assistant-text")).to_have_text("Back after a cut.")
        await expect(conversation.get_by_test_id("user-message")).to_have_count(1)
        await expect(conversation.get_by_test_id("tool-use")).to_have_count(1)
        await expect(conversation.get_by_test_id("tool-result")).to_contain_text("rested")
        await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
        await expect(page.get_by_test_id("stream-status")).to_have_text("live")
        await context.close()
