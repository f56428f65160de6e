"""The embedded storage server's own process (`python -m agent_runtime.storage.embedded_child`).

The runtime writes what to serve as one JSON line on its stdin (so a database password is in neither
argv nor the environment), reads "ready" from its stdout, and stops it by closing that stdin. The end
of stdin is also how it learns that the runtime died, however it died. Stop signals are ignored: the
runtime still writes while it drains, and a terminal's Ctrl-C or a service manager's SIGTERM for the
whole group must not take storage away under it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from agent_runtime.storage.server import start_storage_server

READY = b"ready\n"
STOP_GRACE_SECONDS = 5.0


async def _serve(database: str, profiles_dir: Path, address: str) -> None:
    server = await start_storage_server(database, profiles_dir, address)
    sys.stdout.buffer.write(READY)
    sys.stdout.buffer.flush()
    await asyncio.to_thread(sys.stdin.buffer.read)  # returns at end of stdin
    await server.stop(grace=STOP_GRACE_SECONDS)


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    config = json.loads(sys.stdin.buffer.readline())
    logging.basicConfig(level=config["log_level"].upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(config["database"], Path(config["profiles_dir"]), config["address"]))


if __name__ == "__main__":
    main()
