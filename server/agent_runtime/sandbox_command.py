"""`agent-runtime sandbox exec`: run one command in a fresh sandbox, as an agent would, then clean up.

It is how an operator checks what an agent can and cannot do with a profile's sandbox.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from agent_runtime.sandboxes.providers import opened_provider
from agent_runtime.sandboxes.specs import spec_for
from agent_runtime.storage.catalog import profile_not_found
from agent_runtime.storage.profiles import ProfileDirectory

TIMED_OUT_EXIT_CODE = 124


async def sandbox_exec(
    provider_name: str, profile_id: str, profiles_dir: Path, data_dir: Path, argv: Sequence[str]
) -> int:
    profile = await ProfileDirectory(profiles_dir).load(profile_id)
    if profile is None:
        raise profile_not_found(profile_id)
    async with opened_provider(provider_name, data_dir) as provider:
        sandbox = await provider.create(spec_for(profile, f"sandbox-exec-{uuid.uuid4()}"))
        try:
            execution = await sandbox.exec(argv)
            # Piped input goes to the command; a terminal's does not (the command sees end of input).
            if not sys.stdin.isatty():
                await execution.write_stdin(await asyncio.to_thread(sys.stdin.buffer.read))
            await execution.close_stdin()
            async for chunk in execution.output():
                stream = sys.stdout.buffer if chunk.stream == "stdout" else sys.stderr.buffer
                stream.write(chunk.data)
                stream.flush()
            result = await execution.wait()
        finally:
            await sandbox.terminate()
    if result.timed_out:
        print(f"agent-runtime: {argv[0]} ran past the profile's time limit and was stopped", file=sys.stderr)
        return TIMED_OUT_EXIT_CODE
    return result.returncode
