"""Each npm folder's lock file is complete as committed: npm would add nothing to it, so `npm ci` installs
from it as it is and `make run` leaves a fresh clone clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NPM_FOLDERS = [REPO, REPO / "clients" / "typescript"]


@pytest.mark.parametrize("folder", NPM_FOLDERS, ids=lambda folder: str(folder.relative_to(REPO)) or "root")
def test_the_lock_file_is_complete(folder: Path, tmp_path: Path) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy(folder / name, tmp_path / name)

    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )

    assert (tmp_path / "package-lock.json").read_text() == (folder / "package-lock.json").read_text(), (
        f"npm would change {folder / 'package-lock.json'}: run `npm install` there and commit the lock file"
    )
