"""The web console in a real browser, against a runtime whose model is the fake Anthropic API."""

from __future__ import annotations

from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import API_KEY, Runtime
from tests.integration.console.conftest import AUTH, new_session, new_session_with_message, screenshot, send, sign_in
from tests.integration.managed_agents.conftest import fake_model, runtime  # noqa: F401  # a runtime on the fake

NOTE = {"file_path": "notes/console.txt", "content": "written while the console watched\n"}
REPLY = "Done: the note is in **notes/console.txt**."
PHONE: ViewportSize = {"width": 390, "height": 844}


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
    await send(page, "Write the note")

    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("user-message")).to_contain_text("Write the note")
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Write")
    await expect(conversation.get_by_test_id("tool-result")).to_have_count(1)
    await expect(conversation.get_by_test_id("assistant-text")).to_contain_text("the note is in notes/console.txt")
    await expect(conversation.locator("[data-testid=assistant-text] strong")).to_have_text("notes/console.txt")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    await expect(page.get_by_test_id("session-row")).not_to_have_count(0)
    await expect(page.get_by_test_id("sandbox-status")).to_have_text("sandbox ready")
    await screenshot(page, "a-turn")
    assert fake_model.remaining() == 0


async def test_the_page_is_served_with_a_content_security_policy(page: Page, runtime: Runtime) -> None:  # noqa: F811
    answer = await page.request.get(f"http://{runtime.process.rest_address}/")

    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert answer.headers["cache-control"] == "no-cache"


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
    await new_session_with_message(page, "Wait for a long time", name="Interrupted")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("turn-running")).to_be_visible()
    await expect(conversation.get_by_test_id("tool-name")).to_contain_text("Bash")
    row = page.get_by_test_id("session-row").filter(has_text="Interrupted")
    await expect(row).to_contain_text("running")

    await page.get_by_test_id("interrupt").click()

    await expect(conversation.get_by_test_id("turn-end")).to_contain_text("interrupted")
    await expect(conversation.get_by_test_id("turn-running")).to_have_count(0)
    await expect(row).not_to_contain_text("running")


async def test_the_profiles_are_listed_with_their_details(page: Page) -> None:
    await sign_in(page)

    await page.get_by_test_id("profiles-button").click()
    await expect(page.get_by_test_id("profile-entry")).to_have_count(4)
    await page.get_by_test_id("profile-entry").filter(has_text="Asking").click()

    details = page.get_by_test_id("profile-details")
    await expect(details).to_contain_text("Write")
    await expect(details).to_contain_text("Bash")


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

    await send(page, "Then this")

    await expect(conversation.get_by_test_id("queued-message")).to_contain_text("Then this")
    await expect(conversation.get_by_test_id("assistant-text").last).to_contain_text("Second done.")
    await expect(conversation.get_by_test_id("queued-message")).to_have_count(0)
    await expect(conversation.get_by_test_id("user-message")).to_have_count(2)
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(2)


async def test_the_session_list_follows_sessions_made_and_deleted_elsewhere(page: Page, runtime: Runtime) -> None:  # noqa: F811
    await sign_in(page)
    await expect(page.get_by_test_id("session-list")).to_be_visible()
    rows = page.get_by_test_id("session-row")
    base = f"http://{runtime.process.rest_address}"

    created = await page.request.post(
        f"{base}/sessions/create",
        headers=AUTH,
        data={"agentProfileRef": "default", "architecture": "anthropic", "name": "Made by another client"},
    )
    assert created.ok, await created.text()
    session_id = (await created.json())["sessionId"]
    await expect(rows.filter(has_text="Made by another client")).to_have_count(1)

    renamed = await page.request.patch(
        f"{base}/sessions/{session_id}?updateMask=name", headers=AUTH, data={"name": "Renamed elsewhere"}
    )
    assert renamed.ok, await renamed.text()
    await expect(rows.filter(has_text="Renamed elsewhere")).to_have_count(1)
    await expect(rows.filter(has_text="Made by another client")).to_have_count(0)

    deleted = await page.request.delete(f"{base}/sessions/{session_id}?purge=true", headers=AUTH)
    assert deleted.ok, await deleted.text()
    await expect(rows.filter(has_text="Renamed elsewhere")).to_have_count(0)


async def test_a_session_deleted_from_the_page_is_gone_from_storage(page: Page, runtime: Runtime) -> None:  # noqa: F811
    await new_session(page, name="Short-lived")
    await expect(page.get_by_test_id("session-title")).to_have_text("Short-lived")
    session_id = page.url.split("#session=")[-1]

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_test_id("delete-session").click()

    await expect(page.get_by_test_id("session-row").filter(has_text="Short-lived")).to_have_count(0)
    await expect(page.get_by_test_id("conversation")).to_have_count(0)
    answer = await page.request.get(f"http://{runtime.process.rest_address}/sessions/{session_id}", headers=AUTH)
    assert answer.status == 404, f"{session_id}: {answer.status} {await answer.text()}"


async def test_on_a_phone_in_dark_mode_a_turn_is_run_from_the_keyboard(
    browser: Browser,
    runtime: Runtime,  # noqa: F811
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([Turn.text("Hello from a small screen.")])
    context = await browser.new_context(viewport=PHONE, color_scheme="dark", is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(f"http://{runtime.process.rest_address}/")

    await expect(page.get_by_test_id("api-key")).to_be_focused()
    await page.keyboard.type(API_KEY)
    await page.keyboard.press("Enter")
    await page.get_by_test_id("architecture").press("a")  # typed ahead to "anthropic"
    await expect(page.get_by_test_id("create-session")).to_be_enabled()  # once the profiles are in
    await page.get_by_test_id("create-session").press("Enter")
    await page.get_by_test_id("message").press_sequentially("Say hello")
    await page.keyboard.press("Control+Enter")

    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("assistant-text")).to_contain_text("Hello from a small screen.")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    shown = await conversation.bounding_box()
    form = await page.get_by_test_id("new-session").bounding_box()
    assert shown and form and shown["y"] < form["y"], "the open session comes before the new-session form"
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone's screen"
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert luminance(background) < 0.1, f"not dark: {background}"
    await screenshot(page, "a-phone-in-dark-mode")
    await context.close()


def luminance(css_color: str) -> float:
    """The relative luminance (WCAG's: 0 black, 1 white) of an `rgb(r, g, b)` colour."""
    channels = (int(part) / 255 for part in css_color[css_color.index("(") + 1 : -1].split(",")[:3])
    red, green, blue = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


async def test_an_unloaded_session_stays_and_goes_on_in_a_new_sandbox(page: Page, fake_model: FakeAnthropic) -> None:  # noqa: F811
    fake_model.script([Turn.text("First answer."), Turn.text("Second answer.")])
    await new_session(page, name="Unloaded between turns")
    await send(page, "One")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    await expect(page.get_by_test_id("sandbox-status")).to_have_text("sandbox ready")

    await page.get_by_test_id("unload-session").click()

    await expect(page.get_by_test_id("sandbox-status")).to_have_text("sandbox terminated: Unloaded")
    await expect(page.get_by_test_id("session-row").filter(has_text="Unloaded between turns")).to_have_count(1)
    await send(page, "Two")
    await expect(conversation.get_by_test_id("assistant-text").last).to_have_text("Second answer.")
    await expect(conversation.get_by_test_id("user-message")).to_have_count(2)
    await expect(page.get_by_test_id("sandbox-status")).to_have_text("sandbox ready")
