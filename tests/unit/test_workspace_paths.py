"""Which workspace paths a caller may name."""

from __future__ import annotations

import pytest

from agent_runtime.workspace_paths import workspace_path_problem

GOOD = [
    "a.txt",
    "src/main.py",
    ".claude/agents/x.md",
    "dössier/日本語/ファイル.txt",
    "a..b",
    "...",
    "x" * 255,
    "/".join(["x" * 255] * 4),
]
BAD = [
    "",
    "/abs",
    "../up",
    "a/../b",
    "a/./b",
    "a//b",
    "trailing/",
    "back\\slash",
    "nul\0",
    "é" * 513,
    "x" * 256,
    "a/" + "é" * 128,
]


@pytest.mark.parametrize("path", GOOD)
def test_paths_inside_the_workspace(path: str) -> None:
    assert workspace_path_problem(path) is None


@pytest.mark.parametrize("path", BAD)
def test_paths_that_could_escape_or_are_malformed(path: str) -> None:
    assert workspace_path_problem(path) is not None
