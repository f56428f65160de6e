"""The Go client (clients/go), built from the contract with Debian's Go packages, against a real runtime.

Without `go` the test is skipped, saying how to install it; `.ci/run` installs it and sets
AGENT_RUNTIME_REQUIRE_GO, so that there a missing toolchain fails the test instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from tests.integration.conftest import API_KEY, REPO, Runtime

BUILD = REPO / "clients" / "go" / "build.sh"
BINARY = REPO / "build" / "go" / "bin" / "agent-runtime-go"


@pytest.fixture(scope="module")
def go_client() -> str:
    if shutil.which("go") is None:
        why = "Go is not installed: run clients/go/install-toolchain.sh (as root) to test the Go client"
        if os.environ.get("AGENT_RUNTIME_REQUIRE_GO"):
            pytest.fail(why)
        pytest.skip(why)
    # The Python whose google/api protos the build includes is the one running the tests.
    built = subprocess.run(
        [str(BUILD)], capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable}, timeout=110
    )
    assert built.returncode == 0, built.stderr
    return str(BINARY)


def test_the_go_client_calls_the_runtime(go_client: str, runtime: Runtime) -> None:
    env = {**os.environ, "AGENT_RUNTIME_GRPC_ADDRESS": runtime.address, "AGENT_RUNTIME_API_KEY": API_KEY}
    ran = subprocess.run([go_client], capture_output=True, text=True, env=env, timeout=60)
    assert ran.returncode == 0, ran.stderr
    lines: list[dict[str, Any]] = [json.loads(line) for line in ran.stdout.splitlines()]
    by_call: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_call.setdefault(line["call"], []).append(line)

    assert "default" in by_call["ListAgentProfiles"][0]["profile_ids"]
    session_id = by_call["CreateSession"][0]["session_id"]
    found, unknown = by_call["GetSession"]
    assert found == {
        "call": "GetSession",
        "session_id": session_id,
        "name": "From Go",
        "architecture": "anthropic",
        "agent_profile_ref": "default",
    }
    *events, end = by_call["StreamSessionEvents"]
    assert end == {"call": "StreamSessionEvents", "end": True, "events": len(events)}, "the stream ended at the head"
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert {"payload": "options_update", "max_tokens": 2048}.items() <= events[-1].items(), "the client's update"
    error = (unknown["code"], unknown["reason"], unknown["domain"])
    assert error == ("NOT_FOUND", "SESSION_NOT_FOUND", "agent-runtime")
