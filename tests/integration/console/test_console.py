"""The web console in a real browser: Debian's Chromium driven by Playwright (which downloads no browser),
against a real `agent-runtime serve` whose model is the fake Anthropic API. Screenshots go to
build/screenshots (kept as test artifacts, never committed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import API_KEY, REPO, Runtime
from tests.integration.managed_agents.conftest import fake_model, runtime  # noqa: F401  # a runtime on the fake

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO / "build" / "screenshots"
NOTE = {"file_path": "notes/console.txt", "content": "written while the console watched\n"}
REPLY = "Done: the note is in **notes/console.txt**."


def chromium_or_skip() -> str:
    if shutil.which(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is not installed: `make test` installs it")
    pytest.skip("Debian's chromium is not installed: run `sudo apt-get install chromium` to test the console")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_or_skip()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, runtime: Runtime) -> AsyncIterator[Page]:  # noqa: F811  # the fixture imported above
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    opened = await context.new_page()
    await opened.goto(f"http://{runtime.process.rest_address}/")
    yield opened
    await context.close()


async def sign_in(page: Page, key: str = API_KEY) -> None:
    await page.get_by_test_id("api-key").fill(key)
    await page.get_by_test_id("sign-in").click()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_a_wrong_key_is_refused_with_a_message(page: Page) -> None:
    await sign_in(page, "not-the-key")

    await expect(page.get_by_test_id("sign-in-error")).to_be_visible()
    await expect(page.get_by_test_id("session-list")).to_have_count(0)


async def test_a_session_is_created_and_its_turn_streams_in(page: Page, fake_model: FakeAnthropic) -> None:  # noqa: F811
    fake_model.script([Turn.tool_use("Write", NOTE), Turn.text(REPLY)])
    await sign_in(page)
    await expect(page.get_by_test_id("session-list")).to_be_visible()

    await page.get_by_test_id("architecture").select_option("anthropic")
    await page.get_by_test_id("create-session").click()
    await expect(page.get_by_test_id("conversation")).to_be_visible()
    await page.get_by_test_id("message").fill("Write the note")
    await page.get_by_test_id("send").click()

    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("user-message")).to_contain_text("Write the note")
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Write")
    await expect(conversation.get_by_test_id("tool-result")).to_have_count(1)
    await expect(conversation.get_by_test_id("assistant-text")).to_contain_text("the note is in notes/console.txt")
    await expect(conversation.locator("[data-testid=assistant-text] strong")).to_have_text("notes/console.txt")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    await expect(page.get_by_test_id("session-row")).not_to_have_count(0)
    await screenshot(page, "a-turn")
    assert fake_model.remaining() == 0


async def test_the_page_is_served_with_a_content_security_policy(page: Page, runtime: Runtime) -> None:  # noqa: F811
    answer = await page.request.get(f"http://{runtime.process.rest_address}/")

    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert answer.headers["cache-control"] == "no-cache"


async def new_session_with_message(page: Page, text: str) -> None:
    await sign_in(page)
    await page.get_by_test_id("architecture").select_option("anthropic")
    await page.get_by_test_id("create-session").click()
    await expect(page.get_by_test_id("conversation")).to_be_visible()
    await page.get_by_test_id("message").fill(text)
    await page.get_by_test_id("send").click()


async def test_a_page_reloaded_mid_turn_shows_the_same_conversation_going_on(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 2; echo slept"}), Turn.text("Awake again.")])
    await new_session_with_message(page, "Sleep a little")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Bash")

    await page.reload()

    await expect(conversation.get_by_test_id("assistant-text")).to_contain_text("Awake again.")
    await expect(conversation.get_by_test_id("user-message")).to_have_count(1)
    await expect(conversation.get_by_test_id("tool-use")).to_have_count(1)
    await expect(conversation.get_by_test_id("tool-result")).to_contain_text("slept")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)


async def test_a_long_turn_is_interrupted_from_the_page(page: Page, fake_model: FakeAnthropic) -> None:  # noqa: F811
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 600"})])
    await new_session_with_message(page, "Wait for a long time")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("turn-running")).to_be_visible()
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Bash")

    await page.get_by_test_id("interrupt").click()

    await expect(conversation.get_by_test_id("turn-end")).to_contain_text("interrupted")
    await expect(conversation.get_by_test_id("turn-running")).to_have_count(0)


async def test_an_approval_is_denied_then_allowed_and_the_file_is_opened(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script(
        [Turn.tool_use("Write", NOTE), Turn.text("Not written."), Turn.tool_use("Write", NOTE), Turn.text("Written.")]
    )
    await sign_in(page)
    await page.get_by_test_id("profile").select_option("asking")
    await page.get_by_test_id("architecture").select_option("anthropic")
    await page.get_by_test_id("create-session").click()
    conversation = page.get_by_test_id("conversation")

    await page.get_by_test_id("message").fill("Write the note")
    await page.get_by_test_id("send").click()
    await conversation.get_by_test_id("approval-message").fill("not yet")
    await conversation.get_by_test_id("deny").click()
    await expect(conversation.get_by_test_id("approval-outcome")).to_contain_text("denied")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    await page.get_by_test_id("message").fill("Write it now")
    await page.get_by_test_id("send").click()
    await conversation.get_by_test_id("approve").click()

    await expect(conversation.get_by_test_id("approval-outcome").nth(1)).to_contain_text("allowed")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(2)
    await expect(conversation.get_by_test_id("assistant-text").last).to_contain_text("Written.")
    await page.get_by_test_id("tab-workspace").click()
    workspace = page.get_by_test_id("workspace")
    await workspace.get_by_test_id("file-entry").filter(has_text=NOTE["file_path"]).click()
    await expect(workspace.get_by_test_id("file-viewer")).to_contain_text("written while the console watched")
    await screenshot(page, "an-approval")


async def test_the_profiles_are_listed_with_their_details(page: Page) -> None:
    await sign_in(page)

    await page.get_by_test_id("profiles-button").click()
    await expect(page.get_by_test_id("profile-entry")).to_have_count(4)
    await page.get_by_test_id("profile-entry").filter(has_text="Asking").click()

    details = page.get_by_test_id("profile-details")
    await expect(details).to_contain_text("Write")
    await expect(details).to_contain_text("Bash")


async def test_a_client_tool_is_answered_from_the_page_and_the_usage_shown(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([Turn.tool_use("get_weather", {"city": "Paris"}), Turn.text("Sunny in Paris.")])
    await sign_in(page)
    await page.get_by_test_id("profile").select_option("weather")
    await page.get_by_test_id("architecture").select_option("anthropic")
    await page.get_by_test_id("create-session").click()
    conversation = page.get_by_test_id("conversation")
    await page.get_by_test_id("message").fill("What is the weather in Paris?")
    await page.get_by_test_id("send").click()

    await conversation.get_by_test_id("tool-result-input").fill("sunny, 21 C")
    await conversation.get_by_test_id("tool-result-submit").click()

    await expect(conversation.get_by_test_id("tool-call-outcome")).to_have_text("answered")
    await expect(conversation.get_by_test_id("assistant-text")).to_contain_text("Sunny in Paris.")
    await expect(page.get_by_test_id("usage-input")).to_contain_text("50")  # two model calls of 25 tokens in
    await expect(page.get_by_test_id("usage-output")).to_contain_text("24")


async def test_a_message_sent_during_a_turn_waits_as_queued_then_runs(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script(
        [Turn.tool_use("Bash", {"command": "sleep 2"}), Turn.text("First done."), Turn.text("Second done.")]
    )
    await new_session_with_message(page, "First, sleep")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Bash")

    await page.get_by_test_id("message").fill("Then this")
    await page.get_by_test_id("send").click()

    await expect(conversation.get_by_test_id("queued-message")).to_contain_text("Then this")
    await expect(conversation.get_by_test_id("assistant-text").last).to_contain_text("Second done.")
    await expect(conversation.get_by_test_id("queued-message")).to_have_count(0)
    await expect(conversation.get_by_test_id("user-message")).to_have_count(2)
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(2)
