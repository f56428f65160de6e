"""Create, read, list, update and delete sessions through the gRPC API, as a caller does."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import field_mask_pb2, struct_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import profile_pb2, session_pb2, workspace_pb2
from tests.integration.conftest import AUTH, rpc_error
from tests.support.rpc import assert_error

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub


async def create(stub: Stub, **fields: Any) -> session_pb2.Session:
    defaults = {"agent_profile_ref": "default", "architecture": "claude-agent-sdk"}
    return await stub.CreateSession(api.CreateSessionRequest(**{**defaults, **fields}), metadata=AUTH)


async def test_a_created_session_is_stored_without_a_sandbox(stub: Stub) -> None:
    metadata = struct_pb2.Struct()
    metadata.update({"team": "payments", "priority": 2})
    created = await create(
        stub,
        name="fix the build",
        metadata=metadata,
        session_options=session_pb2.SessionOptions(
            model="claude-sonnet-4-5", claude_agent_sdk=session_pb2.ClaudeAgentSdkOptions(max_turns=5)
        ),
    )

    assert uuid.UUID(created.session_id)
    assert created.architecture == "claude-agent-sdk"
    assert created.agent_profile_ref == "default"
    assert created.created_at.seconds > 0
    assert not created.runtime.loaded
    assert not created.runtime.HasField("sandbox"), "no sandbox before the first message"

    fetched = await stub.GetSession(api.GetSessionRequest(session_id=created.session_id), metadata=AUTH)
    assert fetched.name == "fix the build"
    assert fetched.metadata["team"] == "payments"
    assert fetched.session_options.model == "claude-sonnet-4-5"
    assert fetched.session_options.claude_agent_sdk.max_turns == 5
    assert fetched.created_at == created.created_at


async def test_default_workspace_files_come_from_the_profile_then_the_request(stub: Stub) -> None:
    created = await create(
        stub,
        agent_profile_ref="with-files",
        default_workspace_files=[
            workspace_pb2.WorkspaceFile(path="README.md", content=b"from the request\n"),
            workspace_pb2.WorkspaceFile(path="docs/notes.md", content="ünïcode ✓".encode()),
        ],
    )
    full = await stub.GetSession(
        api.GetSessionRequest(session_id=created.session_id, view=session_pb2.SESSION_VIEW_FULL), metadata=AUTH
    )
    files = {
        f.path: await stub.GetWorkspaceFile(
            api.GetWorkspaceFileRequest(session_id=created.session_id, path=f.path), metadata=AUTH
        )
        for f in full.workspace_files
    }
    assert {path: f.content for path, f in files.items()} == {
        "README.md": b"from the request\n",
        "src/keep.txt": b"kept",
        "assets/dot.bin": b"\x00\x01\x02\xff",
        "docs/notes.md": "ünïcode ✓".encode(),
    }
    for listed in full.workspace_files:
        assert not listed.content, "the FULL view lists files; GetWorkspaceFile serves their content"
        assert (listed.size, listed.sha256) == (len(files[listed.path].content), files[listed.path].sha256)
        assert listed.sha256 == hashlib.sha256(files[listed.path].content).hexdigest()

    basic = await stub.GetSession(
        api.GetSessionRequest(session_id=created.session_id, view=session_pb2.SESSION_VIEW_BASIC), metadata=AUTH
    )
    assert not basic.workspace_files


async def test_list_pages_through_every_session_newest_first(stub: Stub) -> None:
    created = [await create(stub, name=f"page-{i}") for i in range(7)]
    seen: list[session_pb2.Session] = []
    token = ""
    while True:
        page = await stub.ListSessions(api.ListSessionsRequest(page_size=3, page_token=token), metadata=AUTH)
        assert len(page.sessions) <= 3
        seen.extend(page.sessions)
        token = page.next_page_token
        if not token:
            break
    ids = [s.session_id for s in seen]
    assert len(ids) == len(set(ids))
    mine = [s.session_id for s in seen if s.name.startswith("page-")]
    assert mine == [s.session_id for s in reversed(created)]
    times = [(s.created_at.seconds, s.created_at.nanos) for s in seen]
    assert times == sorted(times, reverse=True)


async def test_update_changes_only_the_masked_fields(stub: Stub) -> None:
    created = await create(stub, name="before")
    change = session_pb2.Session(name="after", session_options=session_pb2.SessionOptions(model="claude-opus-4-1"))
    updated = await stub.UpdateSession(
        api.UpdateSessionRequest(
            session_id=created.session_id, session=change, update_mask=field_mask_pb2.FieldMask(paths=["name"])
        ),
        metadata=AUTH,
    )
    assert updated.name == "after"
    assert updated.session_options.model == "", "session_options was not in the mask"

    everything = await stub.UpdateSession(
        api.UpdateSessionRequest(
            session_id=created.session_id, session=change, update_mask=field_mask_pb2.FieldMask(paths=["*"])
        ),
        metadata=AUTH,
    )
    assert everything.session_options.model == "claude-opus-4-1"
    fetched = await stub.GetSession(api.GetSessionRequest(session_id=created.session_id), metadata=AUTH)
    assert (fetched.name, fetched.session_options.model) == ("after", "claude-opus-4-1")


async def test_delete_keeps_the_session_unless_purged(stub: Stub) -> None:
    created = await create(stub)
    unloaded = await stub.DeleteSession(api.DeleteSessionRequest(session_id=created.session_id), metadata=AUTH)
    assert (unloaded.session_id, unloaded.purged) == (created.session_id, False)
    await stub.GetSession(api.GetSessionRequest(session_id=created.session_id), metadata=AUTH)

    purged = await stub.DeleteSession(
        api.DeleteSessionRequest(session_id=created.session_id, purge=True), metadata=AUTH
    )
    assert purged.purged
    error = await rpc_error(stub.GetSession(api.GetSessionRequest(session_id=created.session_id), metadata=AUTH))
    assert_error(error, grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


async def test_the_same_request_id_creates_one_session(stub: Stub) -> None:
    request_id = str(uuid.uuid4())
    first = await create(stub, request_id=request_id, name="once")
    again = await create(stub, request_id=request_id, name="once")
    assert again.session_id == first.session_id
    assert again.created_at == first.created_at

    error = await rpc_error(create(stub, request_id=request_id, architecture="gemini-cli"))
    assert_error(error, grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")


async def test_profiles_are_listed_and_read(stub: Stub) -> None:
    listed = await stub.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest(), metadata=AUTH)
    assert {p.id for p in listed.profiles} == {"default", "with-files"}
    default = await stub.GetAgentProfile(api.GetAgentProfileRequest(agent_profile_id="default"), metadata=AUTH)
    assert default.name == "Default Agent"
    assert list(default.tools) == ["Read", "Write", "Edit", "Bash", "Glob", "Grep"]


async def test_workspace_files_are_listed_and_served(stub: Stub) -> None:
    created = await create(
        stub,
        default_workspace_files=[
            workspace_pb2.WorkspaceFile(path="src/main.py", content=b"print('hi')\n"),
            workspace_pb2.WorkspaceFile(path="data/blob.bin", content=bytes(range(256))),
        ],
    )
    listed = await stub.ListWorkspaceFiles(api.ListWorkspaceFilesRequest(session_id=created.session_id), metadata=AUTH)
    assert sorted((f.path, f.size, f.content) for f in listed.files) == [
        ("data/blob.bin", 256, b""),
        ("src/main.py", 12, b""),
    ]
    assert all(f.modified_time.seconds > 0 for f in listed.files)
    served = await stub.GetWorkspaceFile(
        api.GetWorkspaceFileRequest(session_id=created.session_id, path="data/blob.bin"), metadata=AUTH
    )
    assert served.content == bytes(range(256))

    def get(session_id: str, path: str) -> Any:
        return stub.GetWorkspaceFile(api.GetWorkspaceFileRequest(session_id=session_id, path=path), metadata=AUTH)

    assert_error(await rpc_error(get(created.session_id, "nope.txt")), grpc.StatusCode.NOT_FOUND, "FILE_NOT_FOUND")
    assert_error(await rpc_error(get(created.session_id, "../x")), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PATH")
    unknown = "3a1f0f3e-8d4b-4c55-9b0e-5b0c6f3f9a10"
    assert_error(await rpc_error(get(unknown, "a.txt")), grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")
