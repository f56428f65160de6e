"""The workspace in the console: the file list follows the file events as the agent works, a text file opens
in the viewer, a binary one is offered for download with its exact bytes, a deleted one says so."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.console.conftest import new_session_with_message, send
from tests.integration.managed_agents.conftest import fake_model, runtime  # noqa: F401  # a runtime on the fake

BLOB = bytes(range(256))  # no text encoding reads this
WRITE_BLOB = "printf '" + "".join(f"\\{byte:03o}" for byte in BLOB) + "' > data/blob.bin"


async def test_files_appear_live_open_download_and_show_their_deletion(
    page: Page,
    fake_model: FakeAnthropic,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake_model.script(
        [
            Turn.tool_use("Bash", {"command": f"mkdir -p data && echo 'plain words' > data/words.txt && {WRITE_BLOB}"}),
            Turn.text("Two files."),
        ]
    )
    await new_session_with_message(page, "Make two files")
    await expect(page.get_by_test_id("turn-end")).to_have_count(1)
    await page.get_by_test_id("tab-workspace").click()
    workspace = page.get_by_test_id("workspace")
    entries = workspace.get_by_test_id("file-entry")
    await expect(entries).to_have_text(["data/blob.bin", "data/words.txt"], use_inner_text=True)

    await entries.filter(has_text="words.txt").click()
    await expect(workspace.get_by_test_id("file-viewer")).to_have_text("plain words\n")
    await entries.filter(has_text="blob.bin").click()
    async with page.expect_download() as started:
        await workspace.get_by_test_id("file-download").click()
    download = await started.value
    saved = tmp_path / "blob.bin"
    await download.save_as(saved)
    assert saved.read_bytes() == BLOB

    fake_model.script([Turn.tool_use("Bash", {"command": "rm data/blob.bin"}), Turn.text("Removed.")])
    await page.get_by_test_id("tab-conversation").click()
    await send(page, "Remove the blob")
    await expect(page.get_by_test_id("turn-end")).to_have_count(2)
    await page.get_by_test_id("tab-workspace").click()  # where the blob is still the file chosen
    await expect(workspace.get_by_test_id("file-deleted")).to_be_visible()
    await expect(entries).to_have_text(["data/words.txt"], use_inner_text=True)
