"""`make bench`: every figure beside its baseline from the same run; a table, and bench/results.json."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
from pathlib import Path

from bench import (
    agent_floods,
    approvals,
    cli_startup,
    event_fanout,
    first_delta,
    fleet,
    modal_round_trips,
    sandbox_latency,
    send_message,
    session_memory,
    session_rpcs,
    slow_connections,
)

RESULTS = Path(__file__).with_name("results.json")


def flatten(prefix: str, value: object, into: dict[str, float]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}" if prefix else key, inner, into)
    else:
        into[prefix] = float(value)  # type: ignore[arg-type]


async def main() -> None:
    results = {
        "event_fanout": await event_fanout.measure(),
        "session_rpcs": await session_rpcs.measure(),
        "send_message_answer": await send_message.measure(),
        "first_text_delta": await first_delta.measure(),
        "local_sandbox": await sandbox_latency.measure(),
        "modal_sandbox_on_fake": await modal_round_trips.measure(),
        "idle_sessions": await session_memory.measure(),
        "agent_floods": await agent_floods.measure(),
        "rest_under_strangers": await slow_connections.measure(),
        "cli_startup": await cli_startup.measure(),
        "fleet": await fleet.measure(),
        "approvals": await approvals.measure(),
    }
    figures: dict[str, float] = {}
    flatten("", results, figures)
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {sys.version.split()[0]}"
    RESULTS.write_text(json.dumps({"machine": machine, "figures": figures}, indent=2) + "\n")
    width = max(map(len, figures))
    print(f"machine: {machine}")
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:10.2f}")


if __name__ == "__main__":
    asyncio.run(main())
