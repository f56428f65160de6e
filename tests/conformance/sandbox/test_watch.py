"""File events that lose nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agent_runtime.sandboxes.base import FileChange, FileChangeKind, Sandbox
from tests.conformance.sandbox.helpers import shell

SETTLE_SECONDS = 60.0  # an upper bound for events to arrive, not a measured figure


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


async def test_created_modified_and_deleted_files_are_reported(sandbox: Sandbox) -> None:
    changes = sandbox.watch()
    await shell(sandbox, "mkdir -p src && echo one > src/a.txt && echo two > b.txt")
    await collect(changes, {(FileChangeKind.CREATED, "src/a.txt"), (FileChangeKind.CREATED, "b.txt")})
    await shell(sandbox, "sleep 0.01; echo more >> src/a.txt; rm b.txt")
    await collect(changes, {(FileChangeKind.MODIFIED, "src/a.txt"), (FileChangeKind.DELETED, "b.txt")})


async def test_a_burst_of_two_thousand_files_in_new_folders_is_reported_whole(sandbox: Sandbox) -> None:
    changes = sandbox.watch()
    script = (
        "for d in $(seq 1 50); do mkdir -p burst/$d/deeper; for f in $(seq 1 40); do : > burst/$d/deeper/$f; done; done"
    )
    await shell(sandbox, script)
    created = {(FileChangeKind.CREATED, f"burst/{d}/deeper/{f}") for d in range(1, 51) for f in range(1, 41)}
    assert len(created) == 2000
    await collect(changes, created)

    await shell(sandbox, "rm -r burst")
    await collect(changes, {(FileChangeKind.DELETED, path) for _, path in created})
