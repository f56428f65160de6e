"""The official TypeScript SDK (`@anthropic-ai/sdk`, pinned in clients/typescript), unmodified, against the
Managed Agents API of a live runtime: its Node test (clients/typescript/test/managed-agents.ts)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess

import pytest

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.test_typescript_client import CLIENT, node
from tests.integration.conftest import API_KEY, Runtime

REPLY = "Hello from the fake model, through the Managed Agents API."


@pytest.mark.timeout(180)
async def test_the_typescript_sdk_creates_sends_streams_and_lists(runtime: Runtime, fake_model: FakeAnthropic) -> None:
    fake_model.script([Turn.text(REPLY)])
    env = {
        **os.environ,
        "AGENT_RUNTIME_HTTP_URL": f"http://{runtime.process.rest_address}",
        "AGENT_RUNTIME_API_KEY": API_KEY,
        "AGENT_RUNTIME_TEST_REPLY": REPLY,
    }
    ran = await asyncio.to_thread(
        subprocess.run,
        [node(), "--import", "tsx", "--test", "--test-reporter=spec", "test/managed-agents.ts"],
        cwd=CLIENT, env=env, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert ran.returncode == 0, f"the Node test failed:\n{ran.stdout}\n{ran.stderr}"
    counts = dict(re.findall(r"^\S (tests|pass) (\d+)$", ran.stdout, re.MULTILINE))
    assert counts.get("tests") == "2" and counts.get("pass") == "2", ran.stdout
