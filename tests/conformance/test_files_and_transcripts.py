"""Transcripts (main and per subagent) and workspace files: what is saved is what LoadSession, ListSessionFiles
and GetSessionFile return."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import workspace_pb2
from tests.conformance.helpers import YEAR_2020, create_session, stored_files

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

MAIN = ""


async def save_transcript(storage: Storage, session_id: str, subagent_id: str, text: str) -> None:
    await storage.SaveTranscript(
        pb.SaveTranscriptRequest(session_id=session_id, subagent_id=subagent_id, raw_transcript=text)
    )


async def transcripts(storage: Storage, session_id: str) -> tuple[str, dict[str, str]]:
    """The main transcript and subagent id -> transcript, from LoadSession."""
    loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=session_id))
    subagents = {s.subagent_id: s.raw_transcript for s in loaded.subagents}
    assert len(subagents) == len(loaded.subagents), "a subagent is listed more than once"
    return loaded.raw_transcript, subagents


async def save_file(storage: Storage, session_id: str, path: str, content: bytes) -> workspace_pb2.WorkspaceFile:
    response = await storage.SaveWorkspaceFile(
        pb.SaveWorkspaceFileRequest(session_id=session_id, file=workspace_pb2.WorkspaceFile(path=path, content=content))
    )
    return response.file


async def test_transcripts_are_saved_per_conversation_and_replaced_whole(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    main_jsonl = '{"type":"user","text":"héllo 日本"}\n{"type":"assistant"}\n'

    await save_transcript(storage, session_id, MAIN, "first draft, much longer than what replaces it")
    await save_transcript(storage, session_id, "sub-a", "a1")
    await save_transcript(storage, session_id, "sub-b", "b1")
    await save_transcript(storage, session_id, MAIN, main_jsonl)
    await save_transcript(storage, session_id, "sub-a", "a2 ✓")

    assert await transcripts(storage, session_id) == (main_jsonl, {"sub-a": "a2 ✓", "sub-b": "b1"})


async def test_a_transcript_can_be_replaced_by_an_empty_one(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    await save_transcript(storage, session_id, MAIN, "something")

    await save_transcript(storage, session_id, MAIN, "")

    main, _ = await transcripts(storage, session_id)
    assert main == ""


async def test_a_large_transcript_comes_back_whole(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    line = '{"type":"assistant","message":{"content":"ünïcode 日本語 🔧 and some padding"}}\n'
    text = line * (3 * 1024 * 1024 // len(line))

    await save_transcript(storage, session_id, "sub-big", text)

    _, subagents = await transcripts(storage, session_id)
    assert subagents["sub-big"] == text


async def test_transcripts_belong_to_their_session(storage: Storage) -> None:
    first, second = (await create_session(storage)).session_id, (await create_session(storage)).session_id

    await save_transcript(storage, first, MAIN, "first's")
    await save_transcript(storage, first, "sub-a", "first's subagent")

    assert await transcripts(storage, second) == ("", {})


async def test_saving_a_file_returns_what_was_stored_without_content(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id

    saved = await save_file(storage, session_id, "notes.txt", b"twelve bytes")

    assert (saved.path, saved.size, saved.content) == ("notes.txt", 12, b"")
    assert saved.modified_time.seconds > YEAR_2020, "the server sets modified_time"
    stored = (await stored_files(storage, session_id))["notes.txt"]
    assert (stored.content, stored.size, stored.modified_time) == (b"twelve bytes", 12, saved.modified_time)


async def test_saving_a_file_again_replaces_it(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    await save_file(storage, session_id, "src/app.py", b"print('a much longer first version')\n")

    saved = await save_file(storage, session_id, "src/app.py", b"v2")

    files = await stored_files(storage, session_id)
    assert list(files) == ["src/app.py"]
    assert (files["src/app.py"].content, files["src/app.py"].size, saved.size) == (b"v2", 2, 2)


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 16 + b"\x00" * 1000 + bytes(range(255, -1, -1)),
        b"\x00",
        b"",
        b"\xff\xfe\x00\x00not utf-8 \xc3\x28",
    ],
    ids=["every-byte-value", "one-nul", "empty", "invalid-utf8"],
)
async def test_binary_content_comes_back_byte_for_byte(storage: Storage, content: bytes) -> None:
    session_id = (await create_session(storage)).session_id

    saved = await save_file(storage, session_id, "bin/data.bin", content)

    stored = (await stored_files(storage, session_id))["bin/data.bin"]
    assert stored.content == content
    assert stored.size == saved.size == len(content)


async def test_a_5_mb_file_comes_back_whole(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    content = random.Random(5).randbytes(5 * 1000 * 1000)

    saved = await save_file(storage, session_id, "assets/big.bin", content)

    stored = (await stored_files(storage, session_id))["assets/big.bin"]
    assert stored.content == content
    assert stored.size == saved.size == 5_000_000


async def test_unicode_nested_and_case_distinct_paths_are_kept_apart(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    files = {
        "dössier/日本語/ファイル.txt": "ファイル".encode(),
        "a/b/c/d/e/f/g/deep.txt": b"deep",
        "README.md": b"upper",
        "readme.md": b"lower",
        "with space/and 'quotes' & percent%20.txt": b"odd",
        "emoji-🔧.md": b"wrench",
    }

    for path, content in files.items():
        saved = await save_file(storage, session_id, path, content)
        assert saved.path == path

    stored = await stored_files(storage, session_id)
    assert {path: file.content for path, file in stored.items()} == files


async def test_deleting_a_file_says_whether_it_was_there(storage: Storage) -> None:
    session_id = (await create_session(storage, files=[workspace_pb2.WorkspaceFile(path="keep.txt")])).session_id
    await save_file(storage, session_id, "src/gone.py", b"bye")

    async def delete(path: str) -> bool:
        response = await storage.DeleteSessionFile(pb.DeleteSessionFileRequest(session_id=session_id, path=path))
        return response.deleted

    assert await delete("src/gone.py") is True
    assert await delete("src/gone.py") is False
    assert await delete("never/was.txt") is False
    assert await delete("src") is False, "a directory prefix is not a stored path"
    assert list(await stored_files(storage, session_id)) == ["keep.txt"]


async def test_files_belong_to_their_session(storage: Storage) -> None:
    first, second = (await create_session(storage)).session_id, (await create_session(storage)).session_id
    await save_file(storage, first, "same/path.txt", b"first's")
    await save_file(storage, second, "same/path.txt", b"second's")

    deleted = await storage.DeleteSessionFile(pb.DeleteSessionFileRequest(session_id=second, path="same/path.txt"))

    assert deleted.deleted
    assert (await stored_files(storage, first))["same/path.txt"].content == b"first's"
    assert await stored_files(storage, second) == {}
