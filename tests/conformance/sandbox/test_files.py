"""The runtime's file access to a workspace, and what it refuses."""

from __future__ import annotations

import grpc
import pytest

from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import Sandbox
from agent_runtime.workspace_paths import MAX_FILE_BYTES
from tests.conformance.sandbox.helpers import shell


async def test_files_round_trip_and_are_seen_by_commands(sandbox: Sandbox) -> None:
    binary = bytes(range(256)) * 4
    await sandbox.write_file("assets/blob.bin", binary)
    await sandbox.write_file("dössier/日本語/ファイル.txt", "ünïcode".encode())
    assert await sandbox.read_file("assets/blob.bin") == binary
    assert (await shell(sandbox, "cat 'dössier/日本語/ファイル.txt'")).stdout == "ünïcode".encode()

    await shell(sandbox, "mkdir -p made/by && printf agent > made/by/command.txt")
    assert await sandbox.read_file("made/by/command.txt") == b"agent"
    listed = {f.path: f.size for f in await sandbox.list_files()}
    assert listed == {
        "assets/blob.bin": 1024,
        "dössier/日本語/ファイル.txt": len("ünïcode".encode()),
        "made/by/command.txt": 5,
    }


async def test_files_written_by_the_runtime_belong_to_the_agent(sandbox: Sandbox) -> None:
    await sandbox.write_file("notes/todo.md", b"- one\n")
    changed = await shell(sandbox, "echo '- two' >> notes/todo.md && rm notes/todo.md && rmdir notes")
    assert changed.result.exit_code == 0, changed.stderr


async def test_delete(sandbox: Sandbox) -> None:
    await sandbox.write_file("gone.txt", b"x")
    await sandbox.delete_file("gone.txt")
    assert await sandbox.list_files() == []
    with pytest.raises(ApiError) as missing:
        await sandbox.delete_file("gone.txt")
    assert missing.value.reason == "FILE_NOT_FOUND"


@pytest.mark.parametrize("path", ["../outside", "/etc/passwd", "a/../../b", ""])
async def test_paths_outside_the_workspace_are_refused(sandbox: Sandbox, path: str) -> None:
    for attempt in (sandbox.read_file(path), sandbox.write_file(path, b"x"), sandbox.delete_file(path)):
        with pytest.raises(ApiError) as refused:
            await attempt
        assert (refused.value.code, refused.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PATH")


async def test_missing_and_oversized_files(sandbox: Sandbox) -> None:
    with pytest.raises(ApiError) as missing:
        await sandbox.read_file("nope.txt")
    assert (missing.value.code, missing.value.reason) == (grpc.StatusCode.NOT_FOUND, "FILE_NOT_FOUND")
    with pytest.raises(ApiError) as too_large:
        await sandbox.write_file("big.bin", b"x" * (MAX_FILE_BYTES + 1))
    assert too_large.value.reason == "FILE_TOO_LARGE"
    await shell(sandbox, f"head -c {MAX_FILE_BYTES + 1} /dev/zero > big.bin")
    with pytest.raises(ApiError) as too_large_to_read:
        await sandbox.read_file("big.bin")
    assert too_large_to_read.value.reason == "FILE_TOO_LARGE"
    assert (await shell(sandbox, "true")).result.exit_code == 0
