"""What a runtime process holds: its peak resident memory since a reset, and its embedded SQLite files."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident memory since it started or since reset_peak()."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def reset_peak(pid: int) -> float:
    """The peak starts again from what the process holds now; returns that, in MiB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return peak_rss_mib(pid)


def storage_bytes(data_dir: Path) -> int:
    """The embedded SQLite database with its write-ahead log."""
    return sum(path.stat().st_size for path in data_dir.glob("agent-runtime.db*"))
