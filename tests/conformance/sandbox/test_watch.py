"""File events that lose nothing."""

from __future__ import annotations

from agent_runtime.sandboxes.base import FileChangeKind, Sandbox
from tests.conformance.sandbox.helpers import collect, shell


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
