"""ChangeSessionFiles: many files saved and deleted in one call, all of it or none of it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from agent_runtime._gen.agentruntime.v1 import workspace_pb2
from tests.conformance.helpers import YEAR_2020, create_session, expect_error, new_session_id, stored_files

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage


def files(contents: dict[str, bytes]) -> list[workspace_pb2.WorkspaceFile]:
    return [workspace_pb2.WorkspaceFile(path=path, content=content) for path, content in contents.items()]


async def change(
    storage: Storage,
    session_id: str,
    saved: dict[str, bytes],
    deleted: Sequence[str] = (),
) -> pb.ChangeSessionFilesResponse:
    return await storage.ChangeSessionFiles(
        pb.ChangeSessionFilesRequest(session_id=session_id, saved=files(saved), deleted=deleted)
    )


async def test_many_files_are_saved_and_deleted_in_one_call(storage: Storage) -> None:
    session_id = (await create_session(storage, files=files({"old.txt": b"old", "keep.txt": b"keep"}))).session_id
    saved = {f"src/m{n:03}.py": f"print({n})\n".encode() for n in range(300)}
    saved["keep.txt"] = b"kept, changed"

    answer = await change(storage, session_id, saved, ["old.txt", "never-was.txt"])

    assert [f.path for f in answer.saved] == list(saved)
    for file in answer.saved:
        assert (file.content, file.size) == (b"", len(saved[file.path]))
        assert file.sha256 == hashlib.sha256(saved[file.path]).hexdigest()
        assert file.modified_time.seconds > YEAR_2020
    assert {path: f.content for path, f in (await stored_files(storage, session_id)).items()} == saved


async def test_a_path_saved_twice_keeps_the_last_and_a_delete_comes_after_the_saves(storage: Storage) -> None:
    session_id = (await create_session(storage)).session_id
    request = pb.ChangeSessionFilesRequest(
        session_id=session_id,
        saved=[
            workspace_pb2.WorkspaceFile(path="a.txt", content=b"first"),
            workspace_pb2.WorkspaceFile(path="a.txt", content=b"second"),
            workspace_pb2.WorkspaceFile(path="gone.txt", content=b"saved, then deleted"),
        ],
        deleted=["gone.txt"],
    )

    await storage.ChangeSessionFiles(request)

    assert {path: f.content for path, f in (await stored_files(storage, session_id)).items()} == {"a.txt": b"second"}


async def test_a_change_with_a_bad_file_stores_none_of_it(storage: Storage) -> None:
    session_id = (await create_session(storage, files=files({"stays.txt": b"stays"}))).session_id
    request = pb.ChangeSessionFilesRequest(
        session_id=session_id,
        saved=[workspace_pb2.WorkspaceFile(path="fine.txt", content=b"fine"), workspace_pb2.WorkspaceFile(path="")],
        deleted=["stays.txt"],
    )

    await expect_error(storage.ChangeSessionFiles(request), grpc.StatusCode.INVALID_ARGUMENT, "REQUIRED_FIELD")

    assert {path: f.content for path, f in (await stored_files(storage, session_id)).items()} == {"stays.txt": b"stays"}


async def test_changing_an_unknown_sessions_files_is_not_found(storage: Storage) -> None:
    await expect_error(
        change(storage, new_session_id(), {"a.txt": b"a"}), grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND"
    )
