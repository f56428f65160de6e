"""What the conformance tests share: fresh ids, records and events, and the check of a failed call."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from agent_runtime._gen.agentruntime.v1 import (
    blocks_pb2,
    environment_pb2,
    events_pb2,
    persistence_pb2,
    profile_pb2,
    session_pb2,
    workspace_pb2,
)
from tests.support.rpc import assert_error

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

# 2026-01-01T00:00:00Z. Record timestamps carry whole microseconds, the precision every database keeps.
EPOCH_2026 = 1_767_225_600
# Times the server sets itself (a file's modified_time) are its "now": later than this, at least.
YEAR_2020 = 1_577_836_800


@dataclass(frozen=True)
class KnownProfiles:
    """Profiles the server under test is known to have."""

    ids: tuple[str, ...]
    # Their full contents, and the assurance that there are no others; None for an external server.
    exact: dict[str, profile_pb2.AgentProfile] | None


def new_session_id() -> str:
    return f"conformance-{uuid.uuid4()}"


def timestamp(seconds: int, micros: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=micros * 1000)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def full_record(session_id: str | None = None) -> persistence_pb2.SessionRecord:
    """A record with every field set."""
    return persistence_pb2.SessionRecord(
        session_id=session_id or new_session_id(),
        architecture="claude-agent-sdk",
        agent_profile_ref="reviewer",
        name="Fix the build — ünïcode 日本語 🔧",
        session_options=session_pb2.SessionOptions(
            model="claude-sonnet-4-5",
            claude_agent_sdk=session_pb2.ClaudeAgentSdkOptions(max_turns=12, max_budget_usd=1.5),
        ),
        created_at=timestamp(EPOCH_2026, 123_456),
        last_activity=timestamp(EPOCH_2026 + 3600, 654_321),
        metadata=struct(
            {
                "team": "payments",
                "priority": 2,
                "ratio": 0.25,
                "urgent": True,
                "owner": None,
                "labels": ["ci", "flaky 🔥"],
                "ticket": {"system": "jira", "id": "PAY-1234", "links": []},
            }
        ),
        agent_profile_version=3,
        environment=environment_pb2.Environment(
            environment_id="env_conformance", pip_packages=["pandas"], metadata={"team": "payments"}
        ),
        archived_at=timestamp(EPOCH_2026 + 7200, 5),
        usage=blocks_pb2.Usage(input_tokens=1200, output_tokens=345, cache_read_tokens=6, cache_write_tokens=7),
    )


async def create_session(
    storage: Storage,
    record: persistence_pb2.SessionRecord | None = None,
    files: Sequence[workspace_pb2.WorkspaceFile] = (),
) -> persistence_pb2.SessionRecord:
    record = record if record is not None else full_record()
    await storage.CreateSessionRecord(persistence_pb2.CreateSessionRecordRequest(session=record, workspace_files=files))
    return record


async def expect_error(
    call: Awaitable[object], code: grpc.StatusCode, reason: str | None = None
) -> grpc.aio.AioRpcError:
    """Awaits a call that must fail with `code` and, when given, an ErrorInfo with `reason`."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        if reason is None:
            assert error.code() == code, f"expected {code.name}, got {error.code().name}: {error.details()}"
        else:
            assert_error(error, code, reason)
        return error
    raise AssertionError(f"the call succeeded; {code.name} was expected")


def text_events(session_id: str, first: int, count: int, marker: str = "") -> list[events_pb2.SessionEvent]:
    """`count` small events numbered from `first`, each delta saying `marker` and its sequence."""
    return [
        events_pb2.SessionEvent(
            session_id=session_id,
            conversation_id="main",
            sequence=sequence,
            time=timestamp(EPOCH_2026, sequence),
            block_delta=events_pb2.BlockDelta(
                block_id="b", delta=f"{marker}#{sequence}", kind=events_pb2.DELTA_KIND_TEXT
            ),
        )
        for sequence in range(first, first + count)
    ]


def rich_events(session_id: str, first: int) -> list[events_pb2.SessionEvent]:
    """One event of most payload kinds, numbered from `first`, with nanosecond times and binary content."""
    user_message = blocks_pb2.ConversationBlock(
        id="user-1",
        timestamp=timestamp_pb2.Timestamp(seconds=EPOCH_2026, nanos=1),
        user_message=blocks_pb2.UserMessageBlock(
            content="Fix it ✓ 日本語",
            images=[blocks_pb2.ImagePart(data=bytes(range(256)), media_type="image/png")],
        ),
    )
    tool_use = blocks_pb2.ConversationBlock(
        id="tool-1",
        tool_use=blocks_pb2.ToolUseBlock(
            tool_name="Bash",
            tool_use_id="tu-1",
            input=struct({"command": "ls -la", "env": {"A": "1"}, "args": [1, 2.5, None, True]}),
            status=blocks_pb2.TOOL_STATUS_SUCCESS,
        ),
    )
    sandbox = session_pb2.SandboxState(sandbox_id="sb-1", status=session_pb2.SANDBOX_STATUS_READY)
    binary_file = workspace_pb2.WorkspaceFile(
        path="dössier/bin.dat", content=b"\x00\xff" * 64, size=128, modified_time=timestamp(EPOCH_2026)
    )
    payloads: list[tuple[str, Message]] = [
        ("block_start", events_pb2.BlockStart(block=user_message)),
        ("block_delta", events_pb2.BlockDelta(block_id="a-1", delta="Hel\x00lo", kind=events_pb2.DELTA_KIND_TEXT)),
        ("block_complete", events_pb2.BlockComplete(block_id="tool-1", block=tool_use)),
        (
            "metadata_update",
            events_pb2.MetadataUpdate(
                usage=blocks_pb2.Usage(input_tokens=1200, output_tokens=34, total_tokens=1234),
                cost_usd=0.0123,
                model="claude-sonnet-4-5",
            ),
        ),
        (
            "status",
            events_pb2.StatusChange(runtime=session_pb2.RuntimeState(loaded=True, sandbox=sandbox), message="Ready"),
        ),
        ("file_created", events_pb2.FileChange(file=binary_file)),
        ("file_deleted", events_pb2.FileDeleted(path="old.txt")),
        ("subagent_discovered", events_pb2.SubagentDiscovered(subagent_id="sub-1", name="scout", tool_use_id="tu-2")),
        ("turn_completed", events_pb2.TurnCompleted(turn_id="turn-1", outcome=events_pb2.TURN_OUTCOME_COMPLETED)),
        ("error", events_pb2.ErrorEvent(message="model overloaded", code="MODEL_OVERLOADED")),
    ]
    events = []
    for index, (field, payload) in enumerate(payloads):
        event = events_pb2.SessionEvent(
            session_id=session_id,
            conversation_id="sub-1" if field == "subagent_discovered" else "main",
            sequence=first + index,
            time=timestamp_pb2.Timestamp(seconds=EPOCH_2026 + index, nanos=123_456_789),
        )
        getattr(event, field).CopyFrom(payload)
        events.append(event)
    return events


async def read_all_events(storage: Storage, session_id: str) -> list[events_pb2.SessionEvent]:
    """The whole log, read a page at a time."""
    events: list[events_pb2.SessionEvent] = []
    while True:
        after = events[-1].sequence if events else 0
        page = await storage.ReadEvents(persistence_pb2.ReadEventsRequest(session_id=session_id, after_sequence=after))
        if not page.events:
            return events
        assert page.events[0].sequence > after, f"ReadEvents after {after} returned {page.events[0].sequence}"
        events.extend(page.events)
        if events[-1].sequence >= page.last_sequence:
            return events


def sequences(events: Sequence[events_pb2.SessionEvent]) -> list[int]:
    return [event.sequence for event in events]


async def listed_files(storage: Storage, session_id: str, page_size: int = 0) -> list[workspace_pb2.WorkspaceFile]:
    """Every stored file's metadata from ListSessionFiles, a page at a time, checking each page's shape."""
    files: list[workspace_pb2.WorkspaceFile] = []
    token = ""
    while True:
        page = await storage.ListSessionFiles(
            persistence_pb2.ListSessionFilesRequest(session_id=session_id, page_size=page_size, page_token=token)
        )
        assert all(not f.content for f in page.files), "ListSessionFiles carries no content"
        files.extend(page.files)
        if not page.next_page_token:
            return files
        assert page.files, "a page with a next page token lists something"
        token = page.next_page_token


async def stored_files(storage: Storage, session_id: str) -> dict[str, workspace_pb2.WorkspaceFile]:
    """path -> the stored file with its content: listed, then each read by GetSessionFile."""
    files = {}
    for listed in await listed_files(storage, session_id):
        assert listed.path not in files, f"{listed.path} is listed more than once"
        read = await storage.GetSessionFile(
            persistence_pb2.GetSessionFileRequest(session_id=session_id, path=listed.path)
        )
        assert (read.path, read.size, read.sha256, read.modified_time) == (
            listed.path,
            listed.size,
            listed.sha256,
            listed.modified_time,
        ), "GetSessionFile and ListSessionFiles describe one file alike"
        files[listed.path] = read
    return files
