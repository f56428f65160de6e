"""The console through lost connections mid-turn: cut between the page and a runtime that stays up, or
dropped by the runtime's restart (it comes back on the same address). Either way the page reconnects and
shows the turn to its end, nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, Locator, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import Runtime, launch, make_profiles
from tests.integration.console.conftest import AUTH, new_session_with_message, sign_in
from tests.integration.managed_agents.conftest import ARGS, fake_model, runtime  # noqa: F401  # fixtures too
from tests.support.processes import free_port
from tests.support.tcp_relay import relaying_to

REPLY = "Back after a rest."
LIST_PAGE = 50  # sessions in a page of the console's list


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


@asynccontextmanager
async def resting_turn(browser: Browser, address: str, fake_model: FakeAnthropic) -> AsyncIterator[Locator]:  # noqa: F811
    """A page on `address` whose session's turn is in a 3 s command (its call shown), then answers REPLY."""
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3; echo rested"}), Turn.text(REPLY)])
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"http://{address}/")
    await new_session_with_message(page, "Rest a while")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Bash")
    yield conversation
    await context.close()


async def shown_to_its_end_once(conversation: Locator) -> None:
    await expect(conversation.get_by_test_id("assistant-text")).to_have_text(REPLY, timeout=60_000)
    await expect(conversation.get_by_test_id("user-message")).to_have_count(1)
    await expect(conversation.get_by_test_id("tool-use")).to_have_count(1)
    await expect(conversation.get_by_test_id("tool-result")).to_contain_text("rested")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)


async def test_the_console_recovers_from_a_runtime_restart_mid_turn(
    browser: Browser,
    fixed_runtime: Runtime,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    async with resting_turn(browser, fixed_runtime.process.rest_address, fake_model) as conversation:
        await asyncio.to_thread(fixed_runtime.restart)

        await shown_to_its_end_once(conversation)


async def test_the_console_resumes_when_its_connections_are_cut_mid_turn(
    browser: Browser,
    runtime: Runtime,  # noqa: F811
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    async with (
        relaying_to(runtime.process.rest_address) as relay,
        resting_turn(browser, relay.address, fake_model) as conversation,
    ):
        cut_off = relay.cut()  # while the command sleeps: the page's event streams end before the turn does
        assert cut_off >= 2, "the session list's and the conversation's streams were open"

        await shown_to_its_end_once(conversation)
        await expect(conversation.page.get_by_test_id("stream-status")).to_have_text("live")


async def test_the_pages_of_the_session_list_shown_stay_shown_after_a_reconnection(
    browser: Browser,
    runtime: Runtime,  # noqa: F811
) -> None:
    base = f"http://{runtime.process.rest_address}"
    async with relaying_to(runtime.process.rest_address) as relay:
        context = await browser.new_context()
        page = await context.new_page()
        for n in range(LIST_PAGE + 5):  # more than a page
            made = await page.request.post(f"{base}/sessions/create", headers=AUTH, data=session_named(f"Listed {n}"))
            assert made.ok, await made.text()
        await page.goto(f"http://{relay.address}/")
        await sign_in(page)
        rows = page.get_by_test_id("session-row")
        await expect(rows).to_have_count(LIST_PAGE)
        await page.get_by_test_id("load-more").click()
        await expect(rows.filter(has_text="Listed 0")).to_have_count(1)  # the oldest, on the second page
        shown = await rows.count()

        assert relay.cut() >= 1, "the list's stream was open"
        made = await page.request.post(f"{base}/sessions/create", headers=AUTH, data=session_named("Listed after"))
        assert made.ok, await made.text()

        await expect(rows.filter(has_text="Listed after")).to_have_count(1)  # so the list was read again
        await expect(rows).to_have_count(shown + 1)
        await context.close()


def session_named(name: str) -> dict[str, str]:
    return {"agentProfileRef": "default", "architecture": "anthropic", "name": name}
