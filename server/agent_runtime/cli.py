"""The `agent-runtime` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from agent_runtime.client_cli import add_client_commands, run_client
from agent_runtime.config import add_serve_arguments, settings_from
from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import SandboxUnavailable
from agent_runtime.sandboxes.providers import PROVIDER_NAMES

# The server, the storage server and the sandboxes (the anthropic SDK, aiohttp: 2 s) are imported by the
# command that runs them, so a client command or --help starts at once.

# Libraries that log every request or file change at INFO: only their warnings, unless debugging.
NOISY_LOGGERS = ("httpx", "httpx2", "httpcore", "watchfiles")


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "debug":
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


async def _serve_storage(database: str, profiles_dir: Path, address: str) -> None:
    import signal

    from agent_runtime.storage.server import start_storage_server

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
    backend.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL database, e.g. postgresql://user@127.0.0.1:5432/agent_runtime"
    )
    storage_serve.add_argument("--address", default="127.0.0.1:50052", help="host:port or unix:PATH")
    storage_serve.add_argument(
        "--profiles-dir", type=Path, default=Path("./profiles"), help="agent profiles, one YAML or JSON file each"
    )
    storage_serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    add_client_commands(commands)

    sandbox = commands.add_parser("sandbox", help="sandboxes").add_subparsers(dest="sandbox_command", required=True)
    sandbox_exec_parser = sandbox.add_parser(
        "exec",
        help="run a command in a fresh sandbox of a profile, stream its output, exit with its exit code",
        usage="agent-runtime sandbox exec [--provider local|modal] [--profile ID] -- CMD...",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sandbox_exec_parser.add_argument("--provider", default="local", choices=PROVIDER_NAMES)
    sandbox_exec_parser.add_argument("--profile", default="default", help="the agent profile whose sandbox to use")
    sandbox_exec_parser.add_argument("--profiles-dir", type=Path, default=Path("./profiles"))
    sandbox_exec_parser.add_argument("--data-dir", type=Path, default=Path("./data"), help="where sandboxes live")
    sandbox_exec_parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    sandbox_exec_parser.add_argument("argv", metavar="CMD", nargs=argparse.REMAINDER, help="the command, after --")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    _configure_logging(args.log_level)
    try:
        if args.command == "serve":
            from agent_runtime.runtime_server import serve

            asyncio.run(serve(settings_from(args)))
        elif args.command in ("sessions", "profiles"):
            sys.exit(asyncio.run(run_client(args)))
        elif args.command == "storage":
            from agent_runtime.storage.server import IN_MEMORY

            database = IN_MEMORY if args.memory else args.postgres or str(args.sqlite)
            asyncio.run(_serve_storage(database, args.profiles_dir, args.address))
        else:
            from agent_runtime.sandbox_command import sandbox_exec

            command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
            if not command:
                sys.exit("agent-runtime sandbox exec: give the command after --")
            sys.exit(asyncio.run(sandbox_exec(args.provider, args.profile, args.profiles_dir, args.data_dir, command)))
    except (OSError, SandboxUnavailable) as error:
        sys.exit(f"agent-runtime: {error}")
    except ApiError as error:
        sys.exit(f"agent-runtime: {error.message}")
