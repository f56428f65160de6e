"""A subagent's conversation in the console, nested under the call that started it: the real Claude Code
CLI delegates with its Task tool, on the fake Anthropic API."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import fake_gemini, fake_model, runtime  # noqa: F401  # Claude Code's runtime
from tests.integration.console.conftest import new_session, screenshot, send, sign_in

TASK = {"description": "Look around", "prompt": "List the files.", "subagent_type": "scout"}


async def test_a_subagents_conversation_is_nested_under_its_call(page: Page, fake_model: FakeAnthropic) -> None:  # noqa: F811
    fake_model.script(
        [
            Turn.tool_use("Task", TASK),  # the main agent delegates
            Turn.text("There are no files."),  # the subagent answers
            Turn.text("The helper found nothing."),  # the main agent ends its turn
        ]
    )
    await new_session(page, architecture="claude-agent-sdk", profile="delegating")
    await send(page, "Have a helper look around.")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("turn-end")).to_contain_text("completed", timeout=60_000)

    call = conversation.get_by_test_id("tool-use").filter(has=page.get_by_test_id("tool-name").filter(has_text="Task"))
    await expect(call).to_have_count(1)
    nested = call.locator("xpath=..").get_by_test_id("subagent-conversation")
    await expect(nested).to_contain_text("Subagent scout")
    await nested.locator("summary").click()  # folded once the subagent is done
    await expect(nested.get_by_test_id("assistant-text")).to_have_text("There are no files.")
    main_texts = conversation.locator("[data-testid=assistant-text]:not([data-testid=subagent-conversation] *)")
    await expect(main_texts).to_have_count(1)
    await expect(main_texts).to_contain_text("The helper found nothing.")
    await expect(page.get_by_test_id("usage-cost")).to_contain_text("$0.0")  # Claude Code prices its turns
    await screenshot(page, "a-subagent")


async def test_a_profiles_subagents_are_listed_in_its_details(page: Page) -> None:
    await sign_in(page)
    await page.get_by_test_id("profiles-button").click()
    await page.get_by_test_id("profile-entry").filter(has_text="Delegating").click()

    await expect(page.get_by_test_id("profile-details")).to_contain_text("scout — Looks around the workspace")
