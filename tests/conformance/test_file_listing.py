"""Workspace files are listed a page at a time and read one at a time, so a workspace of any size loads."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import workspace_pb2
from tests.conformance.helpers import create_session, expect_error, listed_files, stored_files

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage

# A gRPC message's usual limit: no answer may need to be this large.
MESSAGE_LIMIT = 64 * 1024 * 1024


async def save(storage: Storage, session_id: str, path: str, content: bytes) -> workspace_pb2.WorkspaceFile:
    file = workspace_pb2.WorkspaceFile(path=path, content=content)
    return (await storage.SaveWorkspaceFile(pb.SaveWorkspaceFileRequest(session_id=session_id, file=file))).file


async def test_files_are_listed_in_path_order_a_page_at_a_time_with_size_and_sha256(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    contents = {f"dir-{n % 3}/file-{n:02}.txt": f"content {n}".encode() * n for n in range(25)}
    contents["é-accented.txt"] = b"sorted by its UTF-8 bytes, after every ASCII path"
    for path, content in contents.items():
        await save(storage, session_id, path, content)

    listed = await listed_files(storage, session_id, page_size=7)

    assert [f.path for f in listed] == sorted(contents, key=str.encode)
    for file in listed:
        assert file.size == len(contents[file.path])
        assert file.sha256 == hashlib.sha256(contents[file.path]).hexdigest()
    assert listed == await listed_files(storage, session_id), "the page size changes only how it is cut"


async def test_saving_answers_and_lists_the_new_sha256(storage: Storage) -> None:
    session_id = await create_session(storage, files=[workspace_pb2.WorkspaceFile(path="a.txt", content=b"one")])
    sid = session_id.session_id

    saved = await save(storage, sid, "a.txt", b"two")

    assert saved.sha256 == hashlib.sha256(b"two").hexdigest()
    assert [(f.path, f.sha256) for f in await listed_files(storage, sid)] == [("a.txt", saved.sha256)]


async def test_a_workspace_larger_than_a_message_loads_file_by_file(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    noise = random.Random(3).randbytes(9_000_000)
    contents = {f"build/out-{n}.bin": bytes([n]) + noise for n in range(8)}
    assert sum(map(len, contents.values())) > MESSAGE_LIMIT
    for path, content in contents.items():
        await save(storage, session_id, path, content)

    loaded = await storage.LoadSession(pb.LoadSessionRequest(session_id=session_id))
    stored = await stored_files(storage, session_id)

    assert loaded.session.session_id == session_id
    assert {path: hashlib.sha256(f.content).digest() for path, f in stored.items()} == {
        path: hashlib.sha256(content).digest() for path, content in contents.items()
    }


async def test_reading_a_path_that_is_not_stored_is_not_found(storage: Storage) -> None:
    session_id = (await create_session(storage, files=[workspace_pb2.WorkspaceFile(path="src/a.py")])).session_id

    for path in ("src/b.py", "src", "SRC/A.PY"):
        await expect_error(
            storage.GetSessionFile(pb.GetSessionFileRequest(session_id=session_id, path=path)),
            grpc.StatusCode.NOT_FOUND,
            "FILE_NOT_FOUND",
        )


async def test_an_empty_path_is_required(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id

    await expect_error(
        storage.GetSessionFile(pb.GetSessionFileRequest(session_id=session_id)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "REQUIRED_FIELD",
    )


@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [({"page_size": -1}, "INVALID_PAGE_SIZE"), ({"page_token": "not-a-token"}, "INVALID_PAGE_TOKEN")],
    ids=["negative-page-size", "foreign-token"],
)
async def test_bad_listing_arguments_are_invalid(storage: Storage, request_fields: dict[str, Any], reason: str) -> None:
    session_id = (await create_session(storage)).session_id

    await expect_error(
        storage.ListSessionFiles(pb.ListSessionFilesRequest(session_id=session_id, **request_fields)),
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
    )


async def test_a_session_listing_token_is_not_a_file_listing_token(storage: Storage) -> None:
    for _ in range(2):
        await create_session(storage)
    sessions_page = await storage.ListAllSessions(pb.ListAllSessionsRequest(page_size=1))
    session_id = (await create_session(storage)).session_id

    await expect_error(
        storage.ListSessionFiles(
            pb.ListSessionFilesRequest(session_id=session_id, page_token=sessions_page.next_page_token)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )
