"""`agent-runtime sessions send` shows the answer as it streams; `watch` follows a session's events."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from tests.fakes.anthropic import FakeAnthropic, Fault, Turn
from tests.integration.agents.conftest import open_conversation, until_sleeping
from tests.integration.conftest import API_KEY, AUTH, Runtime
from tests.support import processes

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub


def cli_env(runtime: Runtime) -> dict[str, str]:
    return {**os.environ, "AGENT_RUNTIME_GRPC_ADDRESS": runtime.address, "AGENT_RUNTIME_API_KEY": API_KEY}


async def test_send_shows_the_turn_and_watch_follows_it(
    stub: Stub, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    conversation = await open_conversation(stub, "anthropic")
    fake_model.script([Turn.tool_use("Bash", {"command": "echo hi > hi.txt"}), Turn.text("Wrote hi.txt for you.")])
    watcher = await asyncio.create_subprocess_exec(
        processes.CLI, "sessions", "watch", conversation.session_id, "--json",
        env=cli_env(runtime), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    sent = await asyncio.to_thread(
        subprocess.run,
        [processes.CLI, "sessions", "send", conversation.session_id, "Write hi."],
        capture_output=True, text=True, env=cli_env(runtime), timeout=120,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "Wrote hi.txt for you." in sent.stdout
    assert "⚙ Bash" in sent.stdout and "created: hi.txt" in sent.stdout
    assert "Ready" in sent.stderr, "the sandbox's progress goes to stderr"

    assert watcher.stdout is not None
    watched: list[dict[str, object]] = []
    while not any("turnCompleted" in event for event in watched):
        watched.append(json.loads(await asyncio.wait_for(watcher.stdout.readline(), 60)))
    watcher.terminate()
    await watcher.wait()
    assert [event["sequence"] for event in watched] == [str(n) for n in range(1, len(watched) + 1)]


def read_terminal(master: int) -> bytes:
    """Everything written to a pseudo-terminal until its last writer closes it."""
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the other side is closed
            return bytes(seen)
        if not chunk:
            return bytes(seen)
        seen += chunk


async def test_on_a_terminal_send_spins_while_the_sandbox_starts(
    stub: Stub, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    conversation = await open_conversation(stub, "anthropic")
    fake_model.script([Turn.text("Here I am.")])
    master, terminal = pty.openpty()
    try:
        sending = await asyncio.create_subprocess_exec(
            processes.CLI, "sessions", "send", conversation.session_id, "Hello?",
            env=cli_env(runtime), stdout=asyncio.subprocess.PIPE, stderr=terminal,
        )  # fmt: skip
        os.close(terminal)
        shown, (stdout, _) = await asyncio.gather(asyncio.to_thread(read_terminal, master), sending.communicate())
    finally:
        os.close(master)
    assert sending.returncode == 0, shown
    assert "Here I am." in stdout.decode()
    progress = shown.decode()
    assert any(f"\r\x1b[K{frame} Ready" in progress for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"), progress
    assert progress.endswith("\r\x1b[K"), "the spinner's line is cleared before the answer"


async def test_send_to_a_busy_session_says_the_message_is_queued_then_shows_its_turn(
    stub: Stub, runtime: Runtime, fake_model: FakeAnthropic
) -> None:
    conversation = await open_conversation(stub, "anthropic")
    fake_model.script([Turn.tool_use("Bash", {"command": "sleep 3305"}), Turn.text("Queued one.")])
    await conversation.send("Sleep a long time.")
    await until_sleeping("^sleep 3305")
    sending = await asyncio.create_subprocess_exec(
        processes.CLI, "sessions", "send", conversation.session_id, "After that.",
        env=cli_env(runtime), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await conversation.until(lambda e: e.message_accepted.user_message.user_message.content == "After that.")
    await stub.InterruptSession(api.InterruptSessionRequest(session_id=conversation.session_id), metadata=AUTH)
    stdout, stderr = await asyncio.wait_for(sending.communicate(), 120)
    assert sending.returncode == 0, stderr
    assert "queued at position 1" in stderr.decode()
    assert stdout.decode().strip() == "Queued one.", "only its own turn is shown"


async def send(runtime: Runtime, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [processes.CLI, "sessions", "send", *args],
        input=stdin, capture_output=True, text=True, env=cli_env(runtime), timeout=120,
    )  # fmt: skip


async def test_send_reads_the_message_from_stdin_or_a_file(
    stub: Stub, runtime: Runtime, fake_model: FakeAnthropic, tmp_path: Path
) -> None:
    conversation = await open_conversation(stub, "anthropic")
    fake_model.script([Turn.text("Read it.")])
    piped = await send(runtime, conversation.session_id, "-", stdin="Piped in.\n")
    assert piped.returncode == 0, piped.stderr
    assert fake_model.message_requests()[-1].messages[-1] == {"role": "user", "content": "Piped in.\n"}

    long_message = "word " * 40_000  # 200 kB: past the 128 KiB one argument may hold
    (tmp_path / "message.txt").write_text(long_message)
    fake_model.script([Turn.text("Read that too.")])
    from_file = await send(runtime, conversation.session_id, "--file", str(tmp_path / "message.txt"))
    assert from_file.returncode == 0, from_file.stderr
    assert fake_model.message_requests()[-1].messages[-1]["content"] == long_message


async def test_a_failed_turn_is_said_once_in_words(stub: Stub, runtime: Runtime, fake_model: FakeAnthropic) -> None:
    conversation = await open_conversation(stub, "anthropic")
    fake_model.script([Fault.bad_request("the fake refuses this one")])
    failed = await send(runtime, conversation.session_id, "Fail, please.")
    assert failed.returncode == 1
    assert "agent-runtime: the turn failed: the model API failed" in failed.stderr
    assert (failed.stdout + failed.stderr).count("the fake refuses this one") == 1
    assert "TURN_OUTCOME" not in failed.stdout + failed.stderr


async def test_watch_says_when_a_session_is_idle(stub: Stub, runtime: Runtime) -> None:
    conversation = await open_conversation(stub, "anthropic")
    watcher = await asyncio.create_subprocess_exec(
        processes.CLI, "sessions", "watch", conversation.session_id,
        env=cli_env(runtime), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert watcher.stderr is not None
    said = [(await asyncio.wait_for(watcher.stderr.readline(), 30)).decode() for _ in range(2)]
    watcher.terminate()
    await watcher.wait()
    assert said == [f"… following {conversation.session_id} (Ctrl-C stops)\n", "… waiting for the next event\n"]
