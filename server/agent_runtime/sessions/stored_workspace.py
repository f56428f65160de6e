"""A session's workspace as storage keeps it, walked a page of metadata at a time and read file by file,
so no storage answer has to carry a whole workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator

from agent_runtime._gen.agentruntime.v1 import persistence_pb2, workspace_pb2
from agent_runtime.storage.client import StorageClient

PAGE_SIZE = 1000


async def stored_file_list(storage: StorageClient, session_id: str) -> AsyncIterator[workspace_pb2.WorkspaceFile]:
    """Every stored file's path, size, time and sha256, in path order."""
    token = ""
    while True:
        page = await storage.call(
            storage.stub.ListSessionFiles,
            persistence_pb2.ListSessionFilesRequest(session_id=session_id, page_size=PAGE_SIZE, page_token=token),
        )
        for file in page.files:
            yield file
        if not page.next_page_token:
            return
        token = page.next_page_token


async def stored_file(storage: StorageClient, session_id: str, path: str) -> workspace_pb2.WorkspaceFile:
    """One stored file with its content; NOT_FOUND (FILE_NOT_FOUND) if it is not stored."""
    return await storage.call(
        storage.stub.GetSessionFile, persistence_pb2.GetSessionFileRequest(session_id=session_id, path=path)
    )
