"""A Node CLI that prints a lot and ends with process.exit() must not lose its last lines when the reader
lags: that is how a Gemini CLI turn once ended with no result line."""

from __future__ import annotations

import asyncio

from agent_runtime.agents import node_stdio
from agent_runtime.agents.sandbox_tree import write_tree
from tests.integration.sandboxes.conftest import MakeSandbox

PRINTED = 1024 * 1024  # far more than a pipe holds
PRINT_THEN_EXIT = f"process.stdout.write('x'.repeat({PRINTED}) + '\\nlast line\\n'); process.exit(0);"
READER_LAG_SECONDS = 1.0


async def printed_by_node(make_sandbox: MakeSandbox, environment: dict[str, str]) -> bytes:
    sandbox = await make_sandbox()
    await write_tree(sandbox, node_stdio.FILES)
    execution = await sandbox.exec(["/usr/bin/node", "-e", PRINT_THEN_EXIT], env=environment)
    await execution.close_stdin()
    await asyncio.sleep(READER_LAG_SECONDS)
    stdout = b"".join([chunk.data async for chunk in execution.output() if chunk.stream == "stdout"])
    assert (await execution.wait()).returncode == 0
    return stdout


async def test_with_the_preload_everything_printed_arrives(make_sandbox: MakeSandbox) -> None:
    stdout = await printed_by_node(make_sandbox, node_stdio.ENVIRONMENT)
    assert len(stdout) == PRINTED + len("\nlast line\n")
    assert stdout.endswith(b"\nlast line\n")


async def test_without_it_node_drops_what_the_pipe_could_not_take(make_sandbox: MakeSandbox) -> None:
    """The reason for the preload: should Node ever write pipes synchronously, it can go."""
    stdout = await printed_by_node(make_sandbox, {})
    assert not stdout.endswith(b"\nlast line\n")
