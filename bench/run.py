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


# Each figure's name in the table, and the module that measures it.
BENCHES = {
    "event_fanout": event_fanout,
    "session_rpcs": session_rpcs,
    "send_message_answer": send_message,
    "first_text_delta": first_delta,
    "local_sandbox": sandbox_latency,
    "modal_sandbox_on_fake": modal_round_trips,
    "idle_sessions": session_memory,
    "agent_floods": agent_floods,
    "rest_under_strangers": slow_connections,
    "cli_startup": cli_startup,
    "fleet": fleet,
    "approvals": approvals,
}


async def main() -> None:
    results: dict[str, object] = {}
    failed: dict[str, str] = {}
    for name, bench in BENCHES.items():
        try:
            results[name] = await bench.measure()
        except Exception as error:  # a busy machine may fail one; the others still report
            failed[name] = f"{type(error).__name__}: {error}"
            print(f"{name} failed: {failed[name]}", file=sys.stderr)
    figures: dict[str, float] = {}
    flatten("", results, figures)
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {sys.version.split()[0]}"
    RESULTS.write_text(json.dumps({"machine": machine, "figures": figures, "failed": failed}, indent=2) + "\n")
    width = max(map(len, [*figures, *failed]), default=0)
    print(f"machine: {machine}")
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:10.2f}")
    for name, why in failed.items():
        print(f"{name:<{width}}  failed: {why}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
