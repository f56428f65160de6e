"""Running a command in a sandbox to its end, as the tests need it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from agent_runtime.sandboxes.base import ExecResult, FileChange, FileChangeKind, Sandbox

SETTLE_SECONDS = 60.0  # an upper bound for events to arrive, not a measured figure


@dataclass
class Finished:
    result: ExecResult
    stdout: bytes
    stderr: bytes
    # The order chunks arrived in, per stream.
    chunks: list[tuple[str, bytes]]


async def run(
    sandbox: Sandbox,
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    cwd: str = "",
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    private: bool = False,
) -> Finished:
    execution = await sandbox.exec(argv, cwd=cwd, env=env, timeout=timeout, private=private)
    if stdin is not None:
        await execution.write_stdin(stdin)
        await execution.close_stdin()
    chunks: list[tuple[str, bytes]] = [(chunk.stream, chunk.data) async for chunk in execution.output()]
    result = await execution.wait()
    return Finished(
        result,
        b"".join(d for s, d in chunks if s == "stdout"),
        b"".join(d for s, d in chunks if s == "stderr"),
        chunks,
    )


async def shell(sandbox: Sandbox, script: str, timeout: float | None = None) -> Finished:
    return await run(sandbox, ["/bin/sh", "-c", script], timeout=timeout)


async def collect(
    changes: AsyncIterator[FileChange], until: set[tuple[FileChangeKind, str]]
) -> set[tuple[FileChangeKind, str]]:
    """Every change seen until all of `until` have been; fails the test if they never all come."""
    seen: set[tuple[FileChangeKind, str]] = set()

    async def gather() -> None:
        async for change in changes:
            seen.add((change.kind, change.path))
            if until <= seen:
                return

    try:
        await asyncio.wait_for(gather(), SETTLE_SECONDS)
    except TimeoutError:
        missing = until - seen
        raise AssertionError(f"{len(missing)} events never came, e.g. {sorted(missing)[:5]}") from None
    return seen
