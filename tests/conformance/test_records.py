"""Creating and reading session records, and what every RPC says about a session that does not exist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import session_pb2, workspace_pb2
from tests.conformance.helpers import (
    EPOCH_2026,
    YEAR_2020,
    create_session,
    expect_error,
    full_record,
    new_session_id,
    stored_files,
    text_events,
    timestamp,
)

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_a_created_record_comes_back_field_for_field(storage: Storage) -> None:
    record = full_record()

    created = await storage.CreateSessionRecord(pb.CreateSessionRecordRequest(session=record))
    fetched = await storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=record.session_id))
    loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=record.session_id))

    assert created.session == record
    assert fetched == record
    assert loaded.session == record
    assert fetched.created_at.ToMicroseconds() == EPOCH_2026 * 1_000_000 + 123_456
    assert (loaded.raw_transcript, list(loaded.subagents)) == ("", [])
    assert await stored_files(storage, record.session_id) == {}


@pytest.mark.parametrize(
    "options",
    [
        session_pb2.SessionOptions(
            model="opus", claude_agent_sdk=session_pb2.ClaudeAgentSdkOptions(max_turns=3, max_budget_usd=0.75)
        ),
        session_pb2.SessionOptions(gemini_cli=session_pb2.GeminiCliOptions(approval_mode="auto_edit")),
        session_pb2.SessionOptions(
            anthropic=session_pb2.AnthropicOptions(max_tokens=4096, thinking_budget_tokens=1024, max_iterations=9)
        ),
        session_pb2.SessionOptions(anthropic=session_pb2.AnthropicOptions()),  # chosen, with every default
        session_pb2.SessionOptions(model="haiku"),  # no architecture options at all
    ],
    ids=["claude-agent-sdk", "gemini-cli", "anthropic", "anthropic-defaults", "model-only"],
)
async def test_each_kind_of_session_options_comes_back(storage: Storage, options: session_pb2.SessionOptions) -> None:
    record = full_record()
    record.session_options.CopyFrom(options)
    await create_session(storage, record)

    fetched = await storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=record.session_id))

    assert fetched.session_options == options
    assert fetched.session_options.WhichOneof("architecture_options") == options.WhichOneof("architecture_options")


async def test_fields_left_unset_stay_unset(storage: Storage) -> None:
    record = pb.SessionRecord(
        session_id=new_session_id(),
        architecture="gemini-cli",
        agent_profile_ref="reviewer",
        created_at=timestamp(EPOCH_2026),
    )
    await create_session(storage, record)

    fetched = await storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=record.session_id))

    assert fetched == record
    assert fetched.name == ""
    for field in ("session_options", "last_activity", "metadata"):
        assert not fetched.HasField(field), f"{field} was never set but came back set"


async def test_creating_a_taken_id_is_already_exists_and_keeps_the_original(storage: Storage) -> None:
    original = full_record()
    first_file = workspace_pb2.WorkspaceFile(path="first.txt", content=b"first")
    await create_session(storage, original, [first_file])
    intruder = pb.SessionRecord(session_id=original.session_id, architecture="gemini-cli", name="intruder")
    second_file = workspace_pb2.WorkspaceFile(path="second.txt", content=b"second")

    await expect_error(
        storage.CreateSessionRecord(pb.CreateSessionRecordRequest(session=intruder, workspace_files=[second_file])),
        grpc.StatusCode.ALREADY_EXISTS,
        "SESSION_ALREADY_EXISTS",
    )

    loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=original.session_id))
    assert loaded.session == original
    stored = await stored_files(storage, original.session_id)
    assert [(f.path, f.content) for f in stored.values()] == [("first.txt", b"first")]


async def test_a_session_is_created_with_its_first_files(storage: Storage) -> None:
    files = {
        "README.md": b"# Project\n",
        "src/app/main.py": b"print('hi')\n",
        "empty.txt": b"",
        "data/blob.bin": bytes(range(256)) * 4,
    }
    record = await create_session(
        storage, files=[workspace_pb2.WorkspaceFile(path=path, content=content) for path, content in files.items()]
    )

    stored = await stored_files(storage, record.session_id)

    assert {path: f.content for path, f in stored.items()} == files
    for file in stored.values():
        assert file.size == len(files[file.path])
        assert file.modified_time.seconds > YEAR_2020, f"{file.path}: no modified time set by the server"


async def test_a_create_that_fails_stores_nothing(storage: Storage) -> None:
    record = full_record()
    files = [
        workspace_pb2.WorkspaceFile(path="fine.txt", content=b"fine"),
        workspace_pb2.WorkspaceFile(path="", content=b"a file needs a path"),
    ]

    await expect_error(
        storage.CreateSessionRecord(pb.CreateSessionRecordRequest(session=record, workspace_files=files)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )

    await expect_error(
        storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=record.session_id)),
        NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


Call = Callable[["Storage", str], Awaitable[object]]

SESSION_RPCS: dict[str, Call] = {
    "LoadSession": lambda s, sid: s.LoadSession(pb.LoadSessionRequest(session_id=sid)),
    "GetSessionRecord": lambda s, sid: s.GetSessionRecord(pb.GetSessionRecordRequest(session_id=sid)),
    "UpdateSessionRecord": lambda s, sid: s.UpdateSessionRecord(
        pb.UpdateSessionRecordRequest(
            session_id=sid, session=pb.SessionRecord(name="x"), update_mask=field_mask_pb2.FieldMask(paths=["name"])
        )
    ),
    "SaveTranscript": lambda s, sid: s.SaveTranscript(pb.SaveTranscriptRequest(session_id=sid, raw_transcript="{}")),
    "SaveTranscript(subagent)": lambda s, sid: s.SaveTranscript(
        pb.SaveTranscriptRequest(session_id=sid, raw_transcript="{}", subagent_id="sub-1")
    ),
    "SaveWorkspaceFile": lambda s, sid: s.SaveWorkspaceFile(
        pb.SaveWorkspaceFileRequest(session_id=sid, file=workspace_pb2.WorkspaceFile(path="a.txt", content=b"a"))
    ),
    "DeleteSessionFile": lambda s, sid: s.DeleteSessionFile(pb.DeleteSessionFileRequest(session_id=sid, path="a.txt")),
    "AppendEvents": lambda s, sid: s.AppendEvents(
        pb.AppendEventsRequest(session_id=sid, expected_last_sequence=0, events=text_events(sid, 1, 1))
    ),
    "ReadEvents": lambda s, sid: s.ReadEvents(pb.ReadEventsRequest(session_id=sid)),
    "DeleteSessionRecord": lambda s, sid: s.DeleteSessionRecord(pb.DeleteSessionRecordRequest(session_id=sid)),
}


@pytest.mark.parametrize("call", SESSION_RPCS.values(), ids=SESSION_RPCS.keys())
async def test_an_unknown_session_is_not_found_and_stays_unknown(storage: Storage, call: Call) -> None:
    session_id = new_session_id()

    error = await expect_error(call(storage, session_id), NOT_FOUND, "SESSION_NOT_FOUND")

    assert error.details(), "a NOT_FOUND should say what was not found"
    await expect_error(
        storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=session_id)), NOT_FOUND, "SESSION_NOT_FOUND"
    )


@pytest.mark.parametrize("call", SESSION_RPCS.values(), ids=SESSION_RPCS.keys())
async def test_an_empty_session_id_is_invalid(storage: Storage, call: Call) -> None:
    await expect_error(call(storage, ""), grpc.StatusCode.INVALID_ARGUMENT)


async def test_creating_without_a_session_id_is_invalid(storage: Storage) -> None:
    record = full_record()
    record.session_id = ""

    await expect_error(
        storage.CreateSessionRecord(pb.CreateSessionRecordRequest(session=record)), grpc.StatusCode.INVALID_ARGUMENT
    )
