"""The API key: from the settings, or generated once and kept in the data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "api-key"


def resolve_api_key(configured: str | None, data_dir: Path) -> tuple[str, Path | None]:
    """The key and, when it lives in the data directory, its file."""
    if configured:
        return configured, None
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip(), path
    key = secrets.token_urlsafe(32)
    # Created owner-only from the start, so the key is never readable by others, even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key, path
