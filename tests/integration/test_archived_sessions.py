"""ArchiveSession: a session kept whole and read-only."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import session_pb2
from tests.integration.conftest import AUTH, rpc_error
from tests.support.rpc import assert_error

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub


async def test_an_archived_session_is_kept_and_takes_no_messages(stub: Stub) -> None:
    session = await stub.CreateSession(
        api.CreateSessionRequest(agent_profile_ref="default", architecture="anthropic", name="kept"), metadata=AUTH
    )

    archived = await stub.ArchiveSession(api.ArchiveSessionRequest(session_id=session.session_id), metadata=AUTH)
    again = await stub.ArchiveSession(api.ArchiveSessionRequest(session_id=session.session_id), metadata=AUTH)
    refused = await rpc_error(
        stub.SendMessage(api.SendMessageRequest(session_id=session.session_id, content="hello"), metadata=AUTH)
    )

    assert archived.HasField("archived_at") and again.archived_at == archived.archived_at
    assert_error(refused, grpc.StatusCode.FAILED_PRECONDITION, "SESSION_ARCHIVED")
    seen = await stub.GetSession(
        api.GetSessionRequest(session_id=session.session_id, view=session_pb2.SESSION_VIEW_BASIC), metadata=AUTH
    )
    assert (seen.name, seen.archived_at) == ("kept", archived.archived_at)


async def test_archiving_an_unknown_session_is_not_found(stub: Stub) -> None:
    error = await rpc_error(stub.ArchiveSession(api.ArchiveSessionRequest(session_id=str(uuid.uuid4())), metadata=AUTH))

    assert_error(error, grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")
