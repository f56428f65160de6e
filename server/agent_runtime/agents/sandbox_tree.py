"""Folders of the sandbox outside the workspace (an agent CLI's config and transcripts), moved in and out
as one tar stream over exec, so it works the same in every provider and costs one command each way."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping

import grpc

from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import Sandbox

# Runs as the sandbox's own user; a folder that is not there yet reads as empty.
_TAR_OUT = 'cd "$1" 2>/dev/null || exit 0; exec tar -cf - .'
_TIMEOUT_SECONDS = 60.0


async def _run(sandbox: Sandbox, argv: list[str], stdin: bytes = b"") -> bytes:
    execution = await sandbox.exec(argv, cwd="", timeout=_TIMEOUT_SECONDS)
    try:
        if stdin:
            await execution.write_stdin(stdin)
        await execution.close_stdin()
        stdout, stderr = bytearray(), bytearray()
        async for chunk in execution.output():
            (stdout if chunk.stream == "stdout" else stderr).extend(chunk.data)
        result = await execution.wait()
    except BaseException:
        await execution.kill()
        raise
    if result.returncode != 0:
        raise ApiError(
            grpc.StatusCode.UNAVAILABLE,
            "SANDBOX_COMMAND_FAILED",
            f"{argv[0]} in the sandbox failed ({result.returncode}): {stderr.decode(errors='replace')[-500:]}",
        )
    return bytes(stdout)


async def read_tree(sandbox: Sandbox, directory: str) -> dict[str, bytes]:
    """Every regular file under `directory`, by path relative to it."""
    archive = await _run(sandbox, ["/bin/sh", "-c", _TAR_OUT, "read-tree", directory])
    if not archive:
        return {}
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        for member in tar:
            content = tar.extractfile(member) if member.isreg() else None
            if content is not None:
                files[member.name.removeprefix("./")] = content.read()
    return files


async def read_text(sandbox: Sandbox, path: str) -> str:
    """One file, wherever it is in the sandbox; empty when it is not there."""
    return (await _run(sandbox, ["/bin/sh", "-c", 'cat "$1" 2>/dev/null || true', "read-text", path])).decode(
        errors="replace"
    )


async def remove_matching(sandbox: Sandbox, directory: str, pattern: str) -> None:
    """Removes the files of `directory` whose names match the shell pattern."""
    await _run(sandbox, ["/bin/sh", "-c", 'cd "$1" 2>/dev/null || exit 0; rm -f -- $2', "remove", directory, pattern])


async def write_tree(sandbox: Sandbox, files: Mapping[str, bytes]) -> None:
    """Writes each file at its absolute path, creating folders, readable by the sandbox's user only."""
    if not files:
        return
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for path, content in files.items():
            member = tarfile.TarInfo(path.lstrip("/"))
            member.size, member.mode = len(content), 0o600
            tar.addfile(member, io.BytesIO(content))
    await _run(sandbox, ["tar", "-xf", "-", "-C", "/", "--no-same-owner"], buffer.getvalue())
