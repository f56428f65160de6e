"""The seed's wire from Node, as its React client used it: fetch for /api and the real `socket.io-client`
(pinned in clients/typescript) for the events of a turn, a dropped transport, and refused keys. The Node
test is clients/typescript/test/seed-wire.ts; this scripts the runtime's fake model for it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess

import pytest

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.test_typescript_client import CLIENT, node
from tests.integration.conftest import API_KEY, Runtime
from tests.integration.managed_agents.conftest import fake_model, runtime  # noqa: F401  # a runtime on the fake

REPLY = "Hi, from the fake model through the seed's wire."
NOTE = {"file_path": "notes/seed.txt", "content": "written for the seed's client\n"}
TURN = [Turn.tool_use("Write", NOTE), Turn.text(REPLY)]


@pytest.mark.timeout(180)
async def test_the_seeds_socket_io_client_follows_turns_and_resumes_after_a_drop(
    runtime: Runtime,  # noqa: F811  # the fixture imported above
    fake_model: FakeAnthropic,  # noqa: F811
) -> None:
    fake_model.script([*TURN, *TURN])  # a turn for each of the two tests that send a message
    env = {
        **os.environ,
        "AGENT_RUNTIME_HTTP_URL": f"http://{runtime.process.rest_address}",
        "AGENT_RUNTIME_API_KEY": API_KEY,
        "AGENT_RUNTIME_TEST_REPLY": REPLY,
        "AGENT_RUNTIME_TEST_FILE": NOTE["file_path"],
    }
    ran = await asyncio.to_thread(
        subprocess.run,
        [node(), "--import", "tsx", "--test", "--test-concurrency=1", "--test-timeout=30000", "--test-reporter=spec",
         "test/seed-wire.ts"],
        cwd=CLIENT, env=env, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert ran.returncode == 0, f"the Node test failed:\n{ran.stdout}\n{ran.stderr}"
    counts = dict(re.findall(r"^\S (tests|pass) (\d+)$", ran.stdout, re.MULTILINE))
    assert counts.get("tests") == "5" and counts.get("pass") == "5", ran.stdout
    assert fake_model.remaining() == 0
