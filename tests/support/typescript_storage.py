"""The TypeScript PersistenceAdapter server of clients/typescript/storage, run as a child process."""

from __future__ import annotations

from pathlib import Path

from tests.support import processes

TYPESCRIPT_PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def start(journal: Path, profiles_dir: Path, address: str = "127.0.0.1:0") -> processes.ChildProcess:
    """The server on a journal file, once it says where it listens."""
    return processes.start_program(
        [
            "node", "--import", "tsx", "storage/main.ts",
            f"--file={journal}", f"--address={address}", f"--profiles-dir={profiles_dir}",
        ],
        cwd=TYPESCRIPT_PACKAGE,  # where node finds tsx and the packages
    )  # fmt: skip
