"""The console in a real browser: Debian's Chromium driven by Playwright (which downloads no browser),
against the `runtime` of the test module asking (each module picks its own, on the fake model APIs).
Screenshots go to build/screenshots (kept as test artifacts, never committed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from tests.integration.conftest import API_KEY, REPO, Runtime

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO / "build" / "screenshots"
LAPTOP: ViewportSize = {"width": 1280, "height": 860}
AUTH = {"authorization": f"Bearer {API_KEY}"}  # for the calls a test makes beside the page


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
async def page(browser: Browser, runtime: Runtime) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=LAPTOP)
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


async def new_session(page: Page, architecture: str = "anthropic", profile: str = "default", name: str = "") -> None:
    await sign_in(page)
    await page.get_by_test_id("profile").select_option(profile)
    await page.get_by_test_id("session-name").fill(name)
    await page.get_by_test_id("architecture").select_option(architecture)
    await page.get_by_test_id("create-session").click()
    await expect(page.get_by_test_id("conversation")).to_be_visible()


async def send(page: Page, text: str) -> None:
    await page.get_by_test_id("message").fill(text)
    await page.get_by_test_id("send").click()


async def new_session_with_message(page: Page, text: str, name: str = "") -> None:
    await new_session(page, name=name)
    await send(page, text)
