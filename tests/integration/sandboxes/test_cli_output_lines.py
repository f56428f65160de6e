"""An agent CLI's stdout is read line by line in bounded memory: a line that never ends stops the run with
a clear error instead of holding the runtime's CPU and memory."""

from __future__ import annotations

from typing import Any

import pytest

from agent_runtime.agents.cli_process import run_cli
from agent_runtime.agents.output_lines import MAX_LINE_BYTES
from agent_runtime.errors import ApiError
from tests.integration.sandboxes.conftest import MakeSandbox


class Lines:
    """What a stream mapper would be fed."""

    def __init__(self) -> None:
        self.fed: list[dict[str, Any]] = []
        self.stopped = False

    def feed(self, line: dict[str, Any]) -> None:
        self.fed.append(line)

    def stop(self) -> None:
        self.stopped = True


async def test_a_line_longer_than_the_limit_stops_the_run_with_a_clear_error(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    endless = f'echo \'{{"n": 1}}\'; head -c {MAX_LINE_BYTES * 6} /dev/zero | tr "\\0" a; echo; echo \'{{"n": 2}}\''
    lines = Lines()
    with pytest.raises(ApiError) as raised:
        await run_cli(sandbox, ["/bin/sh", "-c", endless], {}, b"", lines)
    assert raised.value.reason == "AGENT_OUTPUT_LINE_TOO_LONG"
    assert lines.fed == [{"n": 1}] and lines.stopped, "the lines before it were read; nothing after"
    survivors = await sandbox.exec(["/bin/sh", "-c", "pgrep -x head || true"])
    await survivors.close_stdin()
    assert b"".join([c.data async for c in survivors.output()]) == b"", "the command was stopped"


async def test_many_lines_split_across_chunks_arrive_whole_and_in_order(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    lines = Lines()
    script = 'i=0; while [ $i -lt 20000 ]; do printf \'{"n": %d, "pad": "%0300d"}\\n\' $i 0; i=$((i+1)); done'
    exit_ = await run_cli(sandbox, ["/bin/bash", "-c", script], {}, b"", lines)
    assert exit_.returncode == 0
    assert [line["n"] for line in lines.fed] == list(range(20000))
