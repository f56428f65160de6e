"""What a caller stored survives the server stopping and starting again."""

from __future__ import annotations

from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, session_pb2, workspace_pb2
from tests.integration.conftest import AUTH, Runtime
from tests.support.rpc import channel


async def test_sessions_are_still_listed_after_a_restart(runtime: Runtime) -> None:
    async with channel(runtime.address) as before:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(before)
        created = await stub.CreateSession(
            api.CreateSessionRequest(
                agent_profile_ref="default",
                architecture="gemini-cli",
                name="survivor",
                default_workspace_files=[workspace_pb2.WorkspaceFile(path="notes/todo.md", content=b"- ship\n")],
            ),
            metadata=AUTH,
        )
        await stub.UpdateSession(
            api.UpdateSessionRequest(
                session_id=created.session_id,
                session=session_pb2.Session(name="renamed survivor"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            ),
            metadata=AUTH,
        )

    runtime.restart()

    async with channel(runtime.address) as after:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(after)
        listed = await stub.ListSessions(api.ListSessionsRequest(), metadata=AUTH)
        survivors = [s for s in listed.sessions if s.session_id == created.session_id]
        assert len(survivors) == 1
        assert survivors[0].name == "renamed survivor"
        assert survivors[0].architecture == "gemini-cli"
        fetched = await stub.GetSession(api.GetSessionRequest(session_id=created.session_id), metadata=AUTH)
        assert [f.path for f in fetched.workspace_files] == ["notes/todo.md"]
        file = await stub.GetWorkspaceFile(
            api.GetWorkspaceFileRequest(session_id=created.session_id, path="notes/todo.md"), metadata=AUTH
        )
        assert file.content == b"- ship\n"
