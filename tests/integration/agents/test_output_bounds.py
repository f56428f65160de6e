"""A command that prints without end costs the runtime a bounded amount of memory: the Bash tool keeps the
head and the tail of its output while it reads, and the sandbox's pipe waits for the reader."""

from __future__ import annotations

from tests.fakes.anthropic import FakeAnthropic, Turn
from tests.integration.agents.conftest import Conversation
from tests.integration.conftest import Runtime
from tests.support.footprint import peak_rss_mib, reset_peak

FLOOD_MIB = 400
ALLOWED_GROWTH_MIB = 120  # far below the flood: the output is not held, only read through


async def test_a_flood_of_output_keeps_its_head_and_tail_and_not_the_runtimes_memory(
    conversation: Conversation, fake_model: FakeAnthropic, runtime: Runtime
) -> None:
    pid = runtime.process.process.pid
    fake_model.script([Turn.text("Warm.")])
    await conversation.send("Start the sandbox first.")
    await conversation.until_turn_completed()
    before = reset_peak(pid)  # the peak is measured from now

    flood = f"echo started; yes | head -c {FLOOD_MIB}M; echo; echo finished"
    fake_model.script([Turn.tool_use("Bash", {"command": flood}), Turn.text("Flooded.")])
    await conversation.send("Print a lot.")
    await conversation.until_turn_completed()
    growth = peak_rss_mib(pid) - before

    result = fake_model.message_requests()[-1].tool_results[-1]
    output = result["content"] if isinstance(result["content"], str) else result["content"][0]["text"]
    assert output.startswith("started\n") and output.endswith("\nfinished\n")
    assert "bytes of output cut" in output and len(output) < 200_000
    assert growth < ALLOWED_GROWTH_MIB, f"the runtime's peak memory grew {growth:.0f} MiB for {FLOOD_MIB} MiB of output"
