"""A fake model API served on its own, for trying the runtime without a paid key:

    .venv/bin/python -m tests.fakes.anthropic --port 9999 --script demo.yaml
    .venv/bin/python -m tests.fakes.gemini --port 9998 --script demo.yaml

It listens on 127.0.0.1 only and prints the variables that point `make run` at it. The script is a YAML list;
each model request takes the next answer, and the list starts over when it runs out. An answer is one of

    - text: "Hello from the fake model."
    - tool: Bash                      # a tool call: its name and input, as the agent's tools name them
      input: {command: "ls -la"}
    - fault: server_error             # or overloaded, rate_limited, bad_request

Without --script every request is answered with one line of text.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.fakes.fake_api import FakeApi

FAULTS = ("server_error", "overloaded", "rate_limited", "bad_request")
DEFAULT_ANSWER = {"text": "Hello from the fake model: give it a --script to say more."}


@dataclass(frozen=True)
class Vendor:
    """How one fake is made, what its answers are built from, and the variables that point a runtime at it."""

    name: str
    make: Callable[[int], FakeApi[Any, Any]]
    text: Callable[[str], Any]
    tool: Callable[[str, Mapping[str, Any]], Any]
    fault: Callable[[str], Any]
    variables: Callable[[FakeApi[Any, Any]], str]


def answers(vendor: Vendor, items: object) -> list[Any]:
    """The script's answers; SystemExit naming the item that is not one."""
    if not isinstance(items, list) or not items:
        raise SystemExit("the script must be a non-empty YAML list of answers")
    built = []
    for number, item in enumerate(items, 1):
        if isinstance(item, dict) and isinstance(item.get("text"), str) and len(item) == 1:
            built.append(vendor.text(item["text"]))
        elif isinstance(item, dict) and isinstance(item.get("tool"), str) and set(item) <= {"tool", "input"}:
            built.append(vendor.tool(item["tool"], item.get("input") or {}))
        elif isinstance(item, dict) and item.get("fault") in FAULTS and len(item) == 1:
            built.append(vendor.fault(item["fault"]))
        else:
            raise SystemExit(
                f"answer {number} of the script is not one of text: ..., tool: ... (with input: ...), "
                f"fault: {' | '.join(FAULTS)}: {item!r}"
            )
    return built


def main(vendor: Vendor, argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m tests.fakes.{vendor.name}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--script", type=Path, help="a YAML list of answers")
    args = parser.parse_args(argv)
    items = yaml.safe_load(args.script.read_text()) if args.script else [DEFAULT_ANSWER]
    asyncio.run(_serve(vendor, args.port, answers(vendor, items)))


async def _serve(vendor: Vendor, port: int, script: list[Any]) -> None:
    fake = vendor.make(port)
    fake.repeat(script)
    await fake.start()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    print(f"fake {vendor.name} API listening on {fake.base_url} ({len(script)} answers, repeating)", flush=True)
    print(f"  point a runtime at it: {vendor.variables(fake)} make run", flush=True)
    await stop.wait()
    await fake.stop()
    if fake.unexpected:
        print(f"calls it did not expect: {fake.unexpected}", file=sys.stderr)
