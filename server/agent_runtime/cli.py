"""The `agent-runtime` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from agent_runtime.config import add_serve_arguments, settings_from
from agent_runtime.runtime_server import serve
from agent_runtime.storage.server import IN_MEMORY, start_storage_server


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _serve_storage(database: str, profiles_dir: Path, address: str) -> None:
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await start_storage_server(database, profiles_dir, address)
    print(f"agent-runtime storage listening on {server.address}", flush=True)
    await stop.wait()
    await server.stop(grace=5.0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-runtime", description="Run AI coding agents in sandboxes.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser(
        "serve", help="serve the AgentRuntime gRPC API", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    add_serve_arguments(serve_parser)

    storage = commands.add_parser("storage", help="storage servers").add_subparsers(
        dest="storage_command", required=True
    )
    storage_serve = storage.add_parser(
        "serve",
        help="serve the PersistenceAdapter gRPC API on its own",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    backend = storage_serve.add_mutually_exclusive_group(required=True)
    backend.add_argument("--sqlite", type=Path, metavar="PATH", help="a SQLite database file")
    backend.add_argument("--memory", action="store_true", help="keep everything in memory (for tests)")
    storage_serve.add_argument("--address", default="127.0.0.1:50052", help="host:port or unix:PATH")
    storage_serve.add_argument(
        "--profiles-dir", type=Path, default=Path("./profiles"), help="agent profiles, one YAML or JSON file each"
    )
    storage_serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    _configure_logging(args.log_level)
    try:
        if args.command == "serve":
            asyncio.run(serve(settings_from(args)))
        else:
            database = IN_MEMORY if args.memory else str(args.sqlite)
            asyncio.run(_serve_storage(database, args.profiles_dir, args.address))
    except OSError as error:
        sys.exit(f"agent-runtime: {error}")
