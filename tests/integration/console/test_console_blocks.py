"""How the console shows what the model said and did: Markdown rendered, highlighted and sanitised; thinking
and long tool output folded; the model's failure as an error with its turn's outcome."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.fakes.anthropic import FakeAnthropic, Fault, Turn, text, thinking
from tests.integration.console.conftest import new_session, new_session_with_message, send
from tests.integration.managed_agents.conftest import fake_model, runtime  # noqa: F401  # a runtime on the fake

HOSTILE_MARKDOWN = """\
Here is the function:

```python
def greet(name):
    return f"hello {name}"
```

<img src="x" onerror="document.title='pwned'"><script>document.title='pwned'</script>
[a link](javascript:document.title='pwned') and <b onmouseover="document.title='pwned'">bold</b>
"""


async def test_markdown_is_rendered_and_highlighted_and_the_models_html_never_runs(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([Turn.text(HOSTILE_MARKDOWN)])
    await new_session_with_message(page, "Show me a function")
    answer = page.get_by_test_id("conversation").get_by_test_id("assistant-text")
    await expect(answer).to_contain_text("Here is the function:")
    await expect(page.get_by_test_id("turn-end")).to_have_count(1)

    await expect(answer.locator("pre code .hljs-keyword").first).to_have_text("def")
    await expect(answer.locator("script, [onerror], [onmouseover], a[href^='javascript']")).to_have_count(0)
    await answer.locator("b, img").first.hover()
    assert await page.title() != "pwned"


async def test_thinking_and_long_tool_output_are_folded_until_opened(page: Page, fake_model: FakeAnthropic) -> None:  # noqa: F811
    fake_model.script(
        [
            Turn([thinking("The user wants numbers; seq prints them."), text("Counting.")], stop_reason="end_turn"),
        ]
    )
    await new_session_with_message(page, "Think first")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    folded_thinking = conversation.get_by_test_id("thinking")
    await expect(folded_thinking).not_to_have_attribute("open", "")
    await expect(folded_thinking.get_by_text("seq prints them")).to_be_hidden()
    await folded_thinking.locator("summary").click()
    await expect(folded_thinking.get_by_text("seq prints them")).to_be_visible()

    fake_model.script([Turn.tool_use("Bash", {"command": "seq 1 60"}), Turn.text("Counted.")])
    await send(page, "Count to sixty")
    result = conversation.get_by_test_id("tool-result")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(2)
    await expect(result.locator("summary")).to_contain_text("Tool output")
    await expect(result.get_by_text("59")).to_be_hidden()
    await result.locator("summary").click()
    await expect(result.locator("pre")).to_contain_text("59\n60")


async def test_a_model_that_fails_shows_an_error_and_a_failed_turn(page: Page, fake_model: FakeAnthropic) -> None:  # noqa: F811
    fake_model.script([Fault.bad_request("the fake refuses this request")])
    await new_session(page)
    await send(page, "Fail, please")
    conversation = page.get_by_test_id("conversation")

    await expect(conversation.get_by_test_id("turn-end")).to_contain_text("failed")
    await expect(conversation.get_by_test_id("error-block").first).to_contain_text("the fake refuses this request")
