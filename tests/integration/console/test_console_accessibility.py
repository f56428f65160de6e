"""The console against the WCAG 2.1 A and AA rules axe-core checks (colour contrast, names, labels, roles),
in light and in dark, on each of its views: sign-in, a conversation with a tool call and a
pending approval, the workspace, the profiles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest
from playwright.async_api import Browser, Page, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.conftest import REPO, Runtime
from tests.integration.console.conftest import AUTH, LAPTOP, new_session, screenshot, send
from tests.integration.managed_agents.conftest import fake_model, runtime  # noqa: F401  # a runtime on the fake

AXE = REPO / "console" / "node_modules" / "axe-core" / "axe.min.js"  # installed with the console's packages
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Code with every kind of highlighted token the console colours: keyword, string, number, comment, title.
REPLY = """Here it is:

```python
# greets
def greet(times=2):
    return "hello " * times
```

See `notes/hello.py` and [the docs](https://example.com).
"""


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest) -> Literal["light", "dark"]:
    chosen: Literal["light", "dark"] = request.param
    return chosen


@pytest.fixture
async def scheme_page(browser: Browser, runtime: Runtime, scheme: Literal["light", "dark"]) -> AsyncIterator[Page]:  # noqa: F811
    # axe is put in the page as an inline script, which the console's own policy rightly refuses.
    context = await browser.new_context(viewport=LAPTOP, color_scheme=scheme, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"http://{runtime.process.rest_address}/")
    await page.add_script_tag(path=str(AXE))
    yield page
    await context.close()


async def wcag_violations(page: Page) -> list[dict[str, Any]]:
    """What axe finds, each rule with up to three of the elements that break it."""
    found = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_AA
    )
    return [
        {"rule": v["id"], "help": v["help"], "where": [n["target"] for n in v["nodes"][:3]]}
        for v in found["violations"]
    ]


async def test_every_view_meets_wcag_aa(
    scheme_page: Page,
    scheme: str,
    runtime: Runtime,  # noqa: F811
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    page = scheme_page
    assert await wcag_violations(page) == [], "the sign-in page"

    fake_model.script([Turn.tool_use("Bash", {"command": "echo hi"}), Turn.text(REPLY), Turn.tool_use("Write", {})])
    await new_session(page, profile="asking", name="Checked by axe")
    await send(page, "Print hello")
    conversation = page.get_by_test_id("conversation")
    await expect(conversation.get_by_test_id("turn-end")).to_have_count(1)
    await send(page, "Now write it")
    await expect(conversation.get_by_test_id("approval")).to_be_visible()
    session_id = page.url.split("#session=")[-1]
    await screenshot(page, f"checked-for-accessibility-{scheme}")
    assert await wcag_violations(page) == [], "a conversation with an approval waiting"

    await page.get_by_test_id("tab-workspace").click()
    await expect(page.get_by_test_id("workspace")).to_be_visible()
    assert await wcag_violations(page) == [], "the workspace"

    await page.get_by_test_id("profiles-button").click()
    await page.get_by_test_id("profile-entry").first.click()
    await expect(page.get_by_test_id("profile-details")).to_be_visible()
    assert await wcag_violations(page) == [], "the profiles"
    ended = await page.request.post(
        f"http://{runtime.process.rest_address}/sessions/{session_id}/interrupt", headers=AUTH
    )
    assert ended.ok, await ended.text()  # the approval no longer waits
