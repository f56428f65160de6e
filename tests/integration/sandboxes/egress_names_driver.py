"""Run by test_local_egress_names.py in a mount namespace of its own whose /etc/hosts names the test's
addresses: starts a sandbox whose egress lists them, and prints what CONNECT through its proxy answers
for each target given on the command line, as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path

from agent_runtime.sandboxes.base import SandboxSpec
from tests.conformance.sandbox.helpers import run
from tests.conformance.sandbox.providers import local_provider
from tests.integration.sandboxes.test_local_escapes import CONNECT_THROUGH_PROXY


async def main(port: int, allowed: list[str], targets: list[str]) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(4))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, None, port)  # every address of the host
    answers = {}
    with tempfile.TemporaryDirectory() as root:
        async with local_provider(Path(root)) as provider:
            sandbox = await provider.create(SandboxSpec(session_id=str(uuid.uuid4()), allowed_hosts=tuple(allowed)))
            try:
                for target in targets:
                    answer = await run(sandbox, ["python3", "-c", CONNECT_THROUGH_PROXY, target])
                    answers[target] = answer.stdout.decode().splitlines()
            finally:
                await sandbox.terminate()
    server.close()
    print(json.dumps(answers))


if __name__ == "__main__":
    port, allowed, targets = sys.argv[1], sys.argv[2], sys.argv[3]
    asyncio.run(main(int(port), allowed.split(","), targets.split(",")))
