"""The PersistenceAdapter server under test: the one at --storage-address, else each built-in one in turn.

A built-in backend runs as a real child process for the whole test session: `agent-runtime storage serve`,
or the TypeScript server of clients/typescript/storage. Each has a profiles directory holding one YAML and
one JSON profile whose full contents the suite knows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import duration_pb2

from agent_runtime._gen.agentruntime.v1 import persistence_pb2_grpc, profile_pb2, workspace_pb2
from tests.conformance.helpers import KnownProfiles
from tests.support import postgres, processes, typescript_storage
from tests.support.rpc import channel

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

BUILT_IN_BACKENDS = ("sqlite", "memory", "postgres", "typescript")
EXTERNAL = "external"
READY_TIMEOUT_SECONDS = 10.0

REVIEWER_YAML = """\
name: Code reviewer
description: Reads diffs and comments on them.
systemPrompt: Be specific; quote the line you mean.
agentMDFile: |
  # Reviewer
  Never push.
tools: [Read, Grep, Glob]
environmentVariables:
  LANG: C.UTF-8
defaultWorkspaceFiles:
  - path: docs/GUIDE.md
    content: "Read me first — ünïcode\\n"
  - path: assets/dot.bin
    contentBase64: AAEC/w==
"""

HELPER_JSON = {
    "id": "json-helper",
    "name": "JSON helper",
    "description": "Defined in JSON, with an id of its own.",
    "system_prompt": "Answer briefly.",
    "subagents": [{"name": "scout", "description": "Looks around.", "prompt": "Find files.", "tools": ["Glob"]}],
    "externalMCPs": [
        {"name": "docs", "type": "http", "url": "https://docs.example/mcp", "headers": {"x-team": "core"}}
    ],
    "pipDependencies": ["requests"],
    "maxBudgetUsd": 2.5,
    "limits": {"memoryBytes": "536870912", "execTimeout": "30s"},
}

EXPECTED_PROFILES = {
    "reviewer": profile_pb2.AgentProfile(
        id="reviewer",  # from the file name
        version=1,
        built_in=True,
        name="Code reviewer",
        description="Reads diffs and comments on them.",
        system_prompt="Be specific; quote the line you mean.",
        agent_md_file="# Reviewer\nNever push.\n",
        tools=["Read", "Grep", "Glob"],
        environment_variables={"LANG": "C.UTF-8"},
        default_workspace_files=[
            workspace_pb2.WorkspaceFile(path="docs/GUIDE.md", content="Read me first — ünïcode\n".encode()),
            workspace_pb2.WorkspaceFile(path="assets/dot.bin", content=b"\x00\x01\x02\xff"),
        ],
    ),
    "json-helper": profile_pb2.AgentProfile(
        id="json-helper",
        version=1,
        built_in=True,
        name="JSON helper",
        description="Defined in JSON, with an id of its own.",
        system_prompt="Answer briefly.",
        subagents=[
            profile_pb2.Subagent(name="scout", description="Looks around.", prompt="Find files.", tools=["Glob"])
        ],
        external_mcp_servers=[
            profile_pb2.ExternalMcpServer(
                name="docs", type="http", url="https://docs.example/mcp", headers={"x-team": "core"}
            )
        ],
        pip_dependencies=["requests"],
        max_budget_usd=2.5,
        limits=profile_pb2.SandboxLimits(memory_bytes=536870912, exec_timeout=duration_pb2.Duration(seconds=30)),
    ),
}


@dataclass(frozen=True)
class Target:
    backend: str
    address: str
    profiles: KnownProfiles


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "storage_target" in metafunc.fixturenames:
        external = metafunc.config.getoption("storage_address")
        backends = [EXTERNAL] if external else list(BUILT_IN_BACKENDS)
        metafunc.parametrize("storage_target", backends, indirect=True, scope="session")


def write_profiles(directory: Path) -> Path:
    directory.mkdir()
    (directory / "reviewer.yaml").write_text(REVIEWER_YAML, encoding="utf-8")
    (directory / "helper.json").write_text(json.dumps(HELPER_JSON), encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def storage_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    backend: str = request.param
    if backend == EXTERNAL:
        profile_id = request.config.getoption("storage_profile_id")
        known = KnownProfiles((profile_id,) if profile_id else (), exact=None)
        yield Target(backend, request.config.getoption("storage_address"), known)
        return
    root = tmp_path_factory.mktemp(f"storage-{backend}")
    profiles_dir = write_profiles(root / "profiles")
    with contextlib.ExitStack() as cleanup:
        if backend == "typescript":
            child = typescript_storage.start(root / "journal.jsonl", profiles_dir)
        else:
            if backend == "postgres":
                database = ["--postgres", cleanup.enter_context(postgres.fresh_database())]
            else:
                database = ["--sqlite", str(root / "db.sqlite")] if backend == "sqlite" else ["--memory"]
            child = processes.start(
                ["storage", "serve", *database, "--address", "127.0.0.1:0", "--profiles-dir", str(profiles_dir)]
            )
        try:
            yield Target(backend, child.address, KnownProfiles(tuple(EXPECTED_PROFILES), EXPECTED_PROFILES))
        finally:
            code = child.stop()
        assert code == 0, f"the {backend} storage server exited with {code} on SIGTERM:\n{child.text()}"


@pytest.fixture(scope="session")
async def storage_channel(storage_target: Target) -> AsyncIterator[grpc.aio.Channel]:
    async with channel(storage_target.address) as open_channel:
        try:
            await asyncio.wait_for(open_channel.channel_ready(), READY_TIMEOUT_SECONDS)
        except TimeoutError:
            pytest.fail(f"nothing answers at {storage_target.address} after {READY_TIMEOUT_SECONDS:g} s", pytrace=False)
        yield open_channel


@pytest.fixture(scope="session")
def storage(storage_channel: grpc.aio.Channel) -> Storage:
    return persistence_pb2_grpc.PersistenceAdapterStub(storage_channel)


@pytest.fixture(scope="session")
def known_profiles(storage_target: Target) -> KnownProfiles:
    return storage_target.profiles
