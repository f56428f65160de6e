"""What the seed's answers read from the runtime besides one call: every session, and a file's text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime.seed_wire import shapes
from agent_runtime.seed_wire.shapes import Json

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

LIST_PAGE = 1000
# A file's content is shown when it is UTF-8 text of at most this many bytes; the seed's type allows none
# (`content: string | undefined`), which the others get.
MAX_SHOWN_FILE_BYTES = 1024 * 1024
Metadata = Sequence[tuple[str, str]]


async def session_list(stub: AgentRuntimeAsyncStub, metadata: Metadata) -> list[Json]:
    """Every session as a SessionListItem, newest first (the seed listed all of them at once)."""
    found, token = [], ""
    while True:
        page = await stub.ListSessions(
            api.ListSessionsRequest(page_size=LIST_PAGE, page_token=token), metadata=metadata
        )
        found += [shapes.list_item(session) for session in page.sessions]
        if not page.next_page_token:
            return found
        token = page.next_page_token


async def shown_file(stub: AgentRuntimeAsyncStub, session_id: str, path: str, metadata: Metadata) -> Json:
    """A WorkspaceFile of the seed's: the path, with the text as stored now when it is small UTF-8 text."""
    try:
        stored = await stub.GetWorkspaceFile(
            api.GetWorkspaceFileRequest(session_id=session_id, path=path), metadata=metadata
        )
        if len(stored.content) <= MAX_SHOWN_FILE_BYTES:
            return {"path": path, "content": stored.content.decode("utf-8")}
    except (grpc.aio.AioRpcError, UnicodeDecodeError):  # gone since, or binary: the seed's files are text
        pass
    return {"path": path}
