"""The latency the runtime adds to an answer's first text delta, per architecture: from the fake model
writing its first piece of text to a gRPC subscriber receiving the delta, beside the same client reading
straight from the same fake in the same run (the real `anthropic` SDK; the real Claude Code and Gemini
CLIs on the host, as the runtime runs them in the sandbox)."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import events_pb2
from agent_runtime.agents import claude_code, gemini_cli, node_stdio
from agent_runtime.sandboxes.local.bubblewrap import AGENT_CLIS
from bench.bench_runtime import AUTH, PROFILE, bench_runtime
from bench.sandbox_latency import percentile
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import gemini as fake_gemini
from tests.fakes.fake_api import FakeApi

ANSWER = "Hello there, how are you today?"


@dataclass(frozen=True)
class Fakes:
    anthropic: fake_anthropic.FakeAnthropic
    gemini: fake_gemini.FakeGemini


@dataclass(frozen=True)
class Architecture:
    name: str
    rounds: int  # a CLI turn starts a CLI of a few hundred MB: fewer rounds
    model: Callable[[Fakes], FakeApi[Any, Any]]  # the fake this architecture's client talks to
    answer: Callable[[Fakes], None]  # that fake answers every turn so (however many a failing round takes)
    # The baseline: the same client straight from the fake; when it saw the first text (time.perf_counter()).
    direct: Callable[[Fakes, Path], Awaitable[float]]


async def direct_sdk(fakes: Fakes, home: Path) -> float:
    client = anthropic.AsyncAnthropic(base_url=fakes.anthropic.base_url, api_key=fakes.anthropic.api_key, max_retries=0)
    seen = 0.0
    messages: Any = [{"role": "user", "content": "hi"}]
    try:
        async with client.messages.stream(model="m", max_tokens=64, messages=messages) as stream:
            async for event in stream:  # read to the end, as the runtime does
                if not seen and event.type == "content_block_delta":
                    seen = time.perf_counter()
    finally:
        await client.close()
    return seen


async def first_text_line(
    argv: Sequence[str], environment: dict[str, str], home: Path, stdin: bytes, is_text: Callable[[Any], bool]
) -> float:
    """Runs a CLI on the host to its end; when its first stdout line `is_text` arrived."""
    cli = await asyncio.create_subprocess_exec(
        *argv, cwd=home, env={**environment, "HOME": str(home), "PATH": os.environ["PATH"]},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert cli.stdin is not None and cli.stdout is not None
    cli.stdin.write(stdin)
    cli.stdin.close()
    seen = 0.0
    async for line in cli.stdout:  # read to the end, as the runtime does
        if not seen and line.startswith(b"{") and is_text(json.loads(line)):
            seen = time.perf_counter()
    await cli.wait()
    return seen


async def direct_claude(fakes: Fakes, home: Path) -> float:
    environment = {**claude_code.CLI_ENVIRONMENT, "CLAUDE_CONFIG_DIR": str(home / "claude")}
    environment |= {"ANTHROPIC_BASE_URL": fakes.anthropic.base_url, "ANTHROPIC_API_KEY": fakes.anthropic.api_key}
    argv = [str(AGENT_CLIS / ".bin" / "claude"), "-p", "--input-format=stream-json", "--output-format=stream-json",
            "--verbose", "--include-partial-messages", "--dangerously-skip-permissions", "--model=m"]  # fmt: skip
    message = json.dumps({"type": "user", "message": {"role": "user", "content": "hi"}}).encode() + b"\n"
    return await first_text_line(
        argv,
        environment,
        home,
        message,
        lambda line: line.get("event", {}).get("delta", {}).get("type") == "text_delta",
    )


async def direct_gemini(fakes: Fakes, home: Path) -> float:
    for path, content in gemini_cli.config_files(PROFILE).items():
        target = home / "gemini" / Path(path).relative_to(gemini_cli.HOME)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    preload = home / "blocking-stdio.cjs"  # where the sandbox has it is not on the host
    preload.write_bytes(node_stdio.PRELOAD)
    environment = {**gemini_cli.CLI_ENVIRONMENT, "GEMINI_CLI_HOME": str(home / "gemini"), "TMPDIR": str(home)}
    environment["NODE_OPTIONS"] = f"--require={preload}"
    environment |= {"GOOGLE_GEMINI_BASE_URL": fakes.gemini.base_url, "GEMINI_API_KEY": fakes.gemini.api_key}
    argv = [str(AGENT_CLIS / ".bin" / "gemini"), "--model", gemini_cli.DEFAULT_MODEL, "--approval-mode", "yolo",
            "--output-format", "stream-json", "--prompt", "hi"]  # fmt: skip
    return await first_text_line(
        argv, environment, home, b"", lambda line: line.get("type") == "message" and line.get("role") == "assistant"
    )


def _answer_text(fakes: Fakes) -> None:
    fakes.anthropic.repeat([fake_anthropic.Turn.text(ANSWER)])


ARCHITECTURES = {
    "anthropic": Architecture("anthropic", 20, lambda f: f.anthropic, _answer_text, direct_sdk),
    "claude_code": Architecture("claude-agent-sdk", 8, lambda f: f.anthropic, _answer_text, direct_claude),
    "gemini_cli": Architecture(
        "gemini-cli",
        8,
        lambda f: f.gemini,
        lambda f: f.gemini.repeat([fake_gemini.Turn([fake_gemini.text(ANSWER, pieces=4)])]),
        direct_gemini,
    ),
}


async def through_runtime(stub: Any, session_id: str, after: int) -> tuple[float, int]:
    """Sends a message; when a subscriber saw the answer's first text delta, and the cursor after the turn."""
    request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True)
    stream = stub.StreamSessionEvents(request, metadata=AUTH)
    await stream.initial_metadata()
    await stub.SendMessage(api.SendMessageRequest(session_id=session_id, content="hi"), metadata=AUTH)
    seen, cursor = 0.0, after
    async for response in stream:
        if not response.HasField("event"):
            continue
        cursor = response.event.sequence
        event = response.event
        if not seen and event.HasField("block_delta") and event.block_delta.kind == events_pb2.DELTA_KIND_TEXT:
            seen = time.perf_counter()
        if event.HasField("turn_completed"):
            break
    stream.cancel()
    return seen, cursor


class RoundFailed(Exception):
    """A round that cannot be timed (on a busy machine a CLI may fail one): it is left out, and said."""


def latency(model: FakeApi[Any, Any], emitted_before: int, seen: float) -> float:
    """How long after the fake wrote the round's first text the client saw it."""
    if len(model.text_sent_at) <= emitted_before:
        raise RoundFailed("the fake model sent no text")
    if not seen:
        raise RoundFailed("the client saw no text")
    return seen - model.text_sent_at[emitted_before]


async def timed_rounds(rounds: int, one: Callable[[], Awaitable[float]], failures: list[str], kind: str) -> list[float]:
    """The latencies of the rounds that could be timed; why the others could not goes into `failures`."""
    timed = []
    for number in range(1, rounds + 1):
        try:
            timed.append(await one())
        except RoundFailed as failure:
            failures.append(f"{kind} round {number}: {failure}")
    if not timed:
        raise RoundFailed(f"no {kind} round could be timed: {'; '.join(failures)}")
    return timed


async def measure_one(stub: Any, fakes: Fakes, architecture: Architecture) -> dict[str, float]:
    model = architecture.model(fakes)
    architecture.answer(fakes)
    failures: list[str] = []

    async def direct_round() -> float:
        emitted_before = len(model.text_sent_at)
        return latency(model, emitted_before, await architecture.direct(fakes, Path(home)))

    with tempfile.TemporaryDirectory() as home:  # one home for all rounds, as the sandbox keeps its own
        direct = await timed_rounds(architecture.rounds, direct_round, failures, "direct")
    created = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="bench", architecture=architecture.name), metadata=AUTH
    )
    _, cursor = await through_runtime(stub, created.session_id, 0)  # creates the sandbox

    async def runtime_round() -> float:
        nonlocal cursor
        emitted_before = len(model.text_sent_at)
        seen, cursor = await through_runtime(stub, created.session_id, cursor)
        return latency(model, emitted_before, seen)

    through = await timed_rounds(architecture.rounds, runtime_round, failures, "through the runtime")
    for failure in failures:
        print(f"first_text_delta {architecture.name}: {failure}", file=sys.stderr)
    return {
        "direct_p50_ms": statistics.median(direct) * 1000,
        "through_runtime_p50_ms": statistics.median(through) * 1000,
        "through_runtime_p99_ms": percentile(through, 0.99) * 1000,
        "added_p50_ms": (statistics.median(through) - statistics.median(direct)) * 1000,
        "failed_rounds": len(failures),
    }


async def measure() -> dict[str, dict[str, float]]:
    async with (
        fake_anthropic.running_fake_anthropic([]) as anthropic_model,
        fake_gemini.running_fake_gemini([]) as gemini_model,
    ):
        fakes = Fakes(anthropic_model, gemini_model)
        environment = {
            "ANTHROPIC_API_KEY": anthropic_model.api_key,
            "ANTHROPIC_BASE_URL": anthropic_model.base_url,
            "GEMINI_API_KEY": gemini_model.api_key,
            "GOOGLE_GEMINI_BASE_URL": gemini_model.base_url,
        }
        async with bench_runtime(environment) as runtime:
            stub = runtime.stub
            return {name: await measure_one(stub, fakes, a) for name, a in ARCHITECTURES.items()}
