"""The fake model APIs served on their own, as the README shows them for a trial without a paid key."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import anthropic
import pytest

from tests.fakes.anthropic import API_KEY as ANTHROPIC_KEY
from tests.fakes.gemini.server import API_KEY as GEMINI_KEY
from tests.integration.conftest import REPO
from tests.support.processes import free_port

Serve = Callable[[str, str], tuple[str, str]]
SCRIPT = """\
- text: "Hello from the script."
- tool: Bash
  input: {command: "ls"}
"""


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    started: list[subprocess.Popen[str]] = []

    def start(vendor: str, script: str) -> tuple[str, str]:
        """The fake's base URL and the line that tells how to point a runtime at it."""
        (tmp_path / "script.yaml").write_text(script)
        command = [
            sys.executable,
            "-m",
            f"tests.fakes.{vendor}",
            f"--port={free_port()}",
            f"--script={tmp_path / 'script.yaml'}",
        ]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout is not None
        listening, hint = process.stdout.readline(), process.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", listening)
        assert found, listening
        return found.group(1), hint

    yield start
    for process in started:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert process.stdout is not None
        process.stdout.close()


async def test_the_fake_anthropic_api_answers_its_script_in_a_loop(serve: Serve) -> None:
    base_url, hint = serve("anthropic", SCRIPT)
    assert f"ANTHROPIC_BASE_URL={base_url} ANTHROPIC_API_KEY={ANTHROPIC_KEY} make run" in hint
    client = anthropic.AsyncAnthropic(base_url=base_url, api_key=ANTHROPIC_KEY, max_retries=0)
    asked = {"model": "claude-sonnet-5-5", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]}
    answers = [(await client.messages.create(**asked)).content[0] for _ in range(3)]  # type: ignore[call-overload]
    await client.close()
    assert [block.type for block in answers] == ["text", "tool_use", "text"], "the script starts over"
    assert answers[0].text == answers[2].text == "Hello from the script."
    assert (answers[1].name, answers[1].input) == ("Bash", {"command": "ls"})


async def test_the_fake_gemini_api_answers_its_script(serve: Serve) -> None:
    base_url, hint = serve("gemini", '- text: "Hello from Gemini\'s script."\n')
    assert f"GOOGLE_GEMINI_BASE_URL={base_url} GEMINI_API_KEY={GEMINI_KEY}" in hint
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/v1beta/models/gemini-2.5-flash:generateContent",
            json=body,
            headers={"x-goog-api-key": GEMINI_KEY},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        reply = await answer.json()
    assert reply["candidates"][0]["content"]["parts"][0]["text"] == "Hello from Gemini's script."


def test_a_script_that_is_not_a_list_of_answers_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "script.yaml").write_text("- text: fine\n- say: what\n")
    refused = subprocess.run(
        [sys.executable, "-m", "tests.fakes.anthropic", f"--script={tmp_path / 'script.yaml'}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "answer 2 of the script is not one of text" in refused.stderr
