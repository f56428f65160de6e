"""Bad input gets the right status, reason and field violations, and stores nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import session_pb2, workspace_pb2
from tests.integration.conftest import AUTH, rpc_error
from tests.support.rpc import assert_error, field_violations

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

UNKNOWN_SESSION = "3a1f0f3e-8d4b-4c55-9b0e-5b0c6f3f9a10"
TEN_MIB = 10 * 1024 * 1024


def creating(**fields: Any) -> api.CreateSessionRequest:
    return api.CreateSessionRequest(**{"agent_profile_ref": "default", "architecture": "claude-agent-sdk", **fields})


def big_metadata() -> struct_pb2.Struct:
    metadata = struct_pb2.Struct()
    metadata.update({"blob": "x" * (65 * 1024)})
    return metadata


BAD_CREATES = {
    "empty profile": (creating(agent_profile_ref=""), "INVALID_PROFILE_REF", "agent_profile_ref"),
    "malformed profile": (creating(agent_profile_ref="../etc"), "INVALID_PROFILE_REF", "agent_profile_ref"),
    "unknown architecture": (creating(architecture="opencode"), "INVALID_ARCHITECTURE", "architecture"),
    "empty architecture": (creating(architecture=""), "INVALID_ARCHITECTURE", "architecture"),
    "options of another architecture": (
        creating(session_options=session_pb2.SessionOptions(gemini_cli=session_pb2.GeminiCliOptions())),
        "OPTIONS_MISMATCH",
        "session_options.gemini_cli",
    ),
    "negative option": (
        creating(
            session_options=session_pb2.SessionOptions(claude_agent_sdk=session_pb2.ClaudeAgentSdkOptions(max_turns=-1))
        ),
        "NEGATIVE_NUMBER",
        "session_options.claude_agent_sdk.max_turns",
    ),
    **{
        f"budget {budget}": (
            creating(
                session_options=session_pb2.SessionOptions(
                    claude_agent_sdk=session_pb2.ClaudeAgentSdkOptions(max_budget_usd=float(budget))
                )
            ),
            "NOT_A_FINITE_NUMBER",
            "session_options.claude_agent_sdk.max_budget_usd",
        )
        for budget in ["nan", "inf"]
    },
    "long model": (
        creating(session_options=session_pb2.SessionOptions(model="m" * 129)),
        "FIELD_TOO_LONG",
        "session_options.model",
    ),
    "long name": (creating(name="n" * 257), "FIELD_TOO_LONG", "name"),
    "big metadata": (creating(metadata=big_metadata()), "FIELD_TOO_LONG", "metadata"),
    "malformed request id": (creating(request_id="again"), "INVALID_REQUEST_ID", "request_id"),
    **{
        f"file path {path!r}": (
            creating(default_workspace_files=[workspace_pb2.WorkspaceFile(path=path, content=b"x")]),
            "INVALID_PATH",
            "default_workspace_files[0].path",
        )
        for path in ["", "../escape", "/etc/passwd", "a//b", "a/./b", "dir/", "a\\b", "nul\0byte", "d/" + "n" * 300]
    },
    "file over 10 MiB": (
        creating(default_workspace_files=[workspace_pb2.WorkspaceFile(path="big", content=b"x" * (TEN_MIB + 1))]),
        "FILE_TOO_LARGE",
        "default_workspace_files[0].content",
    ),
}


async def session_count(stub: Stub) -> int:
    listed = await stub.ListSessions(api.ListSessionsRequest(page_size=1000), metadata=AUTH)
    return len(listed.sessions)


@pytest.mark.parametrize("case", BAD_CREATES, ids=list(BAD_CREATES))
async def test_a_bad_create_is_refused_and_stores_nothing(stub: Stub, case: str) -> None:
    request, reason, field = BAD_CREATES[case]
    before = await session_count(stub)
    error = await rpc_error(stub.CreateSession(request, metadata=AUTH))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert field_violations(error).get(field) == reason
    assert await session_count(stub) == before


async def test_every_violation_is_reported_at_once(stub: Stub) -> None:
    error = await rpc_error(
        stub.CreateSession(
            api.CreateSessionRequest(agent_profile_ref="", architecture="x", name="n" * 300), metadata=AUTH
        )
    )
    assert set(field_violations(error)) == {"agent_profile_ref", "architecture", "name"}


async def test_an_unknown_profile_is_not_found(stub: Stub) -> None:
    before = await session_count(stub)
    error = await rpc_error(stub.CreateSession(creating(agent_profile_ref="nobody"), metadata=AUTH))
    assert_error(error, grpc.StatusCode.NOT_FOUND, "PROFILE_NOT_FOUND")
    assert await session_count(stub) == before
    error = await rpc_error(stub.GetAgentProfile(api.GetAgentProfileRequest(agent_profile_id="nobody"), metadata=AUTH))
    assert_error(error, grpc.StatusCode.NOT_FOUND, "PROFILE_NOT_FOUND")


SessionCall = Callable[["Stub", str], Awaitable[Any]]
SESSION_CALLS: dict[str, SessionCall] = {
    "GetSession": lambda stub, sid: stub.GetSession(api.GetSessionRequest(session_id=sid), metadata=AUTH),
    "GetSession BASIC": lambda stub, sid: stub.GetSession(
        api.GetSessionRequest(session_id=sid, view=session_pb2.SESSION_VIEW_BASIC), metadata=AUTH
    ),
    "UpdateSession": lambda stub, sid: stub.UpdateSession(
        api.UpdateSessionRequest(
            session_id=sid, session=session_pb2.Session(name="x"), update_mask=field_mask_pb2.FieldMask(paths=["name"])
        ),
        metadata=AUTH,
    ),
    "DeleteSession": lambda stub, sid: stub.DeleteSession(api.DeleteSessionRequest(session_id=sid), metadata=AUTH),
    "DeleteSession purge": lambda stub, sid: stub.DeleteSession(
        api.DeleteSessionRequest(session_id=sid, purge=True), metadata=AUTH
    ),
}


@pytest.mark.parametrize("call", SESSION_CALLS, ids=list(SESSION_CALLS))
async def test_session_ids_are_checked(stub: Stub, call: str) -> None:
    for malformed in ["", "not-a-uuid", "../../etc/passwd"]:
        error = await rpc_error(SESSION_CALLS[call](stub, malformed))
        assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SESSION_ID")
        assert "session_id" in field_violations(error)
    error = await rpc_error(SESSION_CALLS[call](stub, UNKNOWN_SESSION))
    assert_error(error, grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


async def test_a_bad_update_changes_nothing(stub: Stub) -> None:
    created = await stub.CreateSession(creating(name="unchanged"), metadata=AUTH)

    async def update(paths: list[str], **fields: Any) -> grpc.aio.AioRpcError:
        return await rpc_error(
            stub.UpdateSession(
                api.UpdateSessionRequest(
                    session_id=created.session_id,
                    session=session_pb2.Session(**fields),
                    update_mask=field_mask_pb2.FieldMask(paths=paths),
                ),
                metadata=AUTH,
            )
        )

    assert_error(await update([], name="x"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPDATE_MASK")
    assert_error(
        await update(["name", "architecture"], name="x"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_UPDATE_MASK"
    )
    assert_error(await update(["name"], name="n" * 257), grpc.StatusCode.INVALID_ARGUMENT, "FIELD_TOO_LONG")
    mismatch = await update(
        ["session_options"], session_options=session_pb2.SessionOptions(anthropic=session_pb2.AnthropicOptions())
    )
    assert_error(mismatch, grpc.StatusCode.INVALID_ARGUMENT, "OPTIONS_MISMATCH")
    fetched = await stub.GetSession(api.GetSessionRequest(session_id=created.session_id), metadata=AUTH)
    assert fetched.name == "unchanged"
    assert not fetched.session_options.HasField("anthropic")


async def test_a_bad_page_request_is_refused(stub: Stub) -> None:
    error = await rpc_error(stub.ListSessions(api.ListSessionsRequest(page_token="garbage"), metadata=AUTH))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
    error = await rpc_error(stub.ListSessions(api.ListSessionsRequest(page_size=-1), metadata=AUTH))
    assert_error(error, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_SIZE")


async def test_bad_messages_are_refused(stub: Stub) -> None:
    anthropic_session = await stub.CreateSession(creating(architecture="anthropic"), metadata=AUTH)
    claude_session = await stub.CreateSession(creating(), metadata=AUTH)
    gemini_session = await stub.CreateSession(creating(architecture="gemini-cli"), metadata=AUTH)

    def send(session_id: str, **fields: Any) -> Any:
        return stub.SendMessage(api.SendMessageRequest(session_id=session_id, **fields), metadata=AUTH)

    cases = [
        (send(UNKNOWN_SESSION, content="hi"), grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND"),
        (send("nope", content="hi"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SESSION_ID"),
        (send(anthropic_session.session_id), grpc.StatusCode.INVALID_ARGUMENT, "EMPTY_MESSAGE"),
        (
            send(anthropic_session.session_id, content="x" * (1024 * 1024 + 1)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "FIELD_TOO_LONG",
        ),
        (
            send(anthropic_session.session_id, content="hi", request_id="again"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_REQUEST_ID",
        ),
        # This runtime has no ANTHROPIC_API_KEY: the caller is told which variable to set.
        (send(anthropic_session.session_id, content="hi"), grpc.StatusCode.FAILED_PRECONDITION, "MODEL_KEY_MISSING"),
        (send(claude_session.session_id, content="hi"), grpc.StatusCode.FAILED_PRECONDITION, "MODEL_KEY_MISSING"),
        (send(gemini_session.session_id, content="hi"), grpc.StatusCode.FAILED_PRECONDITION, "MODEL_KEY_MISSING"),
    ]
    for call, code, reason in cases:
        assert_error(await rpc_error(call), code, reason)
    fetched = await stub.GetSession(api.GetSessionRequest(session_id=anthropic_session.session_id), metadata=AUTH)
    assert not fetched.runtime.loaded, "a refused message loads nothing"
    replay = api.StreamSessionEventsRequest(session_id=anthropic_session.session_id, follow=False)
    stored = [r.event async for r in stub.StreamSessionEvents(replay, metadata=AUTH) if r.HasField("event")]
    assert stored == [], "and stores nothing"
