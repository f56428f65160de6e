"""The committed generated code matches the protos: editing a .proto without `make proto` fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_generated_code_is_fresh() -> None:
    check = subprocess.run([sys.executable, "tools/gen_protos.py", "--check"], cwd=REPO, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
