"""A human in the loop from the console: approvals answered inline, the agent's questions with their
options, client tools answered from the page."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.console.conftest import new_session, screenshot, send
from tests.integration.managed_agents.conftest import fake_model, runtime  # noqa: F401  # a runtime on the fake

NOTE = {"file_path": "notes/console.txt", "content": "written while the console watched\n"}


def two_turns_writing_the_note(first_reply: str, second_reply: str) -> list[Turn]:
    return [Turn.tool_use("Write", NOTE), Turn.text(first_reply), Turn.tool_use("Write", NOTE), Turn.text(second_reply)]


async def test_an_approval_is_denied_then_allowed_and_the_file_is_opened(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script(two_turns_writing_the_note("Not written.", "Written."))
    await new_session(page, profile="asking", name="A note, with permission")
    conversation = page.get_by_test_id("conversation")

    await send(page, "Write the note")
    await conversation.get_by_test_id("approval-message").fill("not yet")
    await conversation.get_by_test_id("deny").click()
    await expect(conversation.get_by_test_id("approval-outcome")).to_contain_text("denied")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    await send(page, "Write it now")
    await conversation.get_by_test_id("approve").click()

    await expect(conversation.get_by_test_id("approval-outcome").nth(1)).to_contain_text("allowed")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(2)
    await expect(conversation.get_by_test_id("assistant-text").last).to_contain_text("Written.")
    await conversation.evaluate("element => element.scrollTo(0, element.scrollHeight)")  # clicks scrolled it up
    await screenshot(page, "an-approval")
    await page.get_by_test_id("tab-workspace").click()
    workspace = page.get_by_test_id("workspace")
    await workspace.get_by_test_id("file-entry").filter(has_text=NOTE["file_path"]).click()
    await expect(workspace.get_by_test_id("file-viewer")).to_contain_text("written while the console watched")
    await screenshot(page, "a-file-opened")


async def test_a_client_tool_is_answered_from_the_page_and_the_usage_shown(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([Turn.tool_use("get_weather", {"city": "Paris"}), Turn.text("Sunny in Paris.")])
    await new_session(page, profile="weather")
    conversation = page.get_by_test_id("conversation")
    await send(page, "What is the weather in Paris?")

    await conversation.get_by_test_id("tool-result-input").fill("sunny, 21 C")
    await conversation.get_by_test_id("tool-result-submit").click()

    await expect(conversation.get_by_test_id("tool-call-outcome")).to_have_text("answered")
    await expect(conversation.get_by_test_id("assistant-text")).to_contain_text("Sunny in Paris.")
    await expect(page.get_by_test_id("usage-input")).to_contain_text("50")  # two model calls of 25 tokens in
    await expect(page.get_by_test_id("usage-output")).to_contain_text("24")
    await expect(page.get_by_test_id("usage-cost")).to_have_count(0)  # the native loop has no price list


async def test_always_allow_lets_the_same_call_through_for_the_rest_of_the_session(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script(two_turns_writing_the_note("Written once.", "Twice."))
    await new_session(page, profile="asking")
    conversation = page.get_by_test_id("conversation")
    await send(page, "Write the note")
    await conversation.get_by_test_id("always-allow").click()
    await expect(conversation.get_by_test_id("approval-outcome")).to_contain_text("for the rest of the session")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)

    await send(page, "Write it again")

    await expect(conversation.get_by_test_id("assistant-text").last).to_have_text("Twice.")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(2)
    await expect(conversation.get_by_test_id("approval")).to_have_count(1)  # the second call was not asked about
    await expect(conversation.get_by_test_id("tool-status")).to_have_text(["success", "success"])


async def test_the_agents_question_is_answered_with_one_of_its_options(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    options = [{"label": "red", "description": "warm"}, {"label": "blue", "description": "cool"}]
    question = {"question": "Which color?", "header": "Color", "options": options, "multiSelect": False}
    fake_model.script([Turn.tool_use("AskUserQuestion", {"questions": [question]}), Turn.text("Blue it is.")])
    await new_session(page, profile="asking")
    conversation = page.get_by_test_id("conversation")
    await send(page, "Paint it")

    asked = conversation.get_by_test_id("approval-question")
    await expect(asked).to_contain_text("Which color?")
    await expect(asked.get_by_test_id("approval-option")).to_have_count(2)
    await asked.get_by_test_id("approval-option").filter(has_text="blue").click()

    await expect(asked).to_contain_text("Answer: blue")
    await expect(conversation.get_by_test_id("approval-outcome")).to_contain_text("allowed by")
    await expect(conversation.get_by_test_id("assistant-text")).to_have_text("Blue it is.")
    tool_result = fake_model.message_requests()[-1].tool_results[-1]
    assert "blue" in str(tool_result["content"]), tool_result
