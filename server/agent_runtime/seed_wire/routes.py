"""The seed's REST routes under /api, each a call of the runtime's gRPC API with the caller's key, answered
in the seed's shapes. Bodies are read as its zod schemas read them: the fields it names, of their types
(others are ignored, as zod strips them)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import session_pb2
from agent_runtime.http_surface import caller
from agent_runtime.seed_wire import shapes
from agent_runtime.seed_wire.errors import invalid
from agent_runtime.seed_wire.reads import MAX_SHOWN_FILE_BYTES, session_list, shown_file
from agent_runtime.sessions.validation import ARCHITECTURES

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        raise invalid("INVALID_REQUEST", "the body is not JSON, or is nested too deeply") from None
    if not isinstance(body, dict):
        raise invalid("INVALID_REQUEST", "the body must be a JSON object")
    return body


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise invalid("INVALID_REQUEST", f"{name}: a non-empty string is required")
    return value


def _options(value: Any) -> session_pb2.SessionOptions:
    """The seed's sessionOptions: {model?: string}."""
    if value is None:
        return session_pb2.SessionOptions()
    if not isinstance(value, dict) or not isinstance(value.get("model", ""), str):
        raise invalid("INVALID_REQUEST", "sessionOptions must be an object whose model is a string")
    return session_pb2.SessionOptions(model=value.get("model", ""))


class SeedRoutes:
    def __init__(self, stub: AgentRuntimeAsyncStub) -> None:
        self._stub = stub

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_post("/sessions", self.create)
        router.add_get("/sessions", self.list)
        router.add_get("/sessions/{session_id}", self.get)
        router.add_delete("/sessions/{session_id}", self.unload)
        router.add_post("/sessions/{session_id}/sync", self.sync)
        router.add_patch("/sessions/{session_id}/options", self.update_options)
        router.add_post("/sessions/{session_id}/messages", self.send)

    async def create(self, request: web.Request) -> web.Response:
        body = await _body(request)
        profile, architecture = _string(body, "agentProfileRef"), _string(body, "architecture")
        if architecture not in ARCHITECTURES:
            raise invalid(
                "INVALID_ARCHITECTURE",
                f"architecture {architecture[:64]!r} is not served here (opencode is the seed's own);"
                f" the architectures are {', '.join(ARCHITECTURES)}",
            )
        created = await self._stub.CreateSession(
            api.CreateSessionRequest(
                agent_profile_ref=profile,
                architecture=architecture,
                session_options=_options(body.get("sessionOptions")),
            ),
            metadata=caller(request),
        )
        answer = {
            "sessionId": created.session_id,
            "runtime": shapes.runtime(created.runtime),
            "createdAt": shapes.millis(created.created_at),
            "sessionOptions": shapes.session_options(created.session_options),
        }
        return web.json_response(answer, status=201)

    async def list(self, request: web.Request) -> web.Response:
        return web.json_response({"sessions": await session_list(self._stub, caller(request))})

    async def get(self, request: web.Request) -> web.Response:
        """RuntimeSessionData: the session with its blocks, its subagents' and its workspace's files."""
        session_id = request.match_info["session_id"]
        session = await self._stub.GetSession(
            api.GetSessionRequest(session_id=session_id, view=session_pb2.SESSION_VIEW_FULL), metadata=caller(request)
        )
        files = [
            await shown_file(self._stub, session_id, file.path, caller(request))
            if file.size <= MAX_SHOWN_FILE_BYTES
            else {"path": file.path}
            for file in session.workspace_files
        ]
        data = shapes.list_item(session) | {
            "blocks": [shapes.block(block) for block in session.blocks],
            "workspaceFiles": files,
            "subagents": [
                {"id": subagent.subagent_id, "blocks": [shapes.block(block) for block in subagent.blocks]}
                for subagent in session.subagents
            ],
        }
        return web.json_response(data)

    async def unload(self, request: web.Request) -> web.Response:
        """As the seed: the session is unloaded (its sandbox ended), and stays stored."""
        session_id = request.match_info["session_id"]
        await self._stub.DeleteSession(api.DeleteSessionRequest(session_id=session_id), metadata=caller(request))
        return web.json_response({"success": True, "sessionId": session_id})

    async def sync(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        await self._stub.SyncSession(api.SyncSessionRequest(session_id=session_id), metadata=caller(request))
        return web.json_response({"success": True, "sessionId": session_id})

    async def update_options(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        body = await _body(request)
        if "sessionOptions" not in body:
            raise invalid("INVALID_REQUEST", "sessionOptions is required")
        updated = await self._stub.UpdateSession(
            api.UpdateSessionRequest(
                session_id=session_id,
                session=session_pb2.Session(session_options=_options(body["sessionOptions"])),
                update_mask=field_mask_pb2.FieldMask(paths=["session_options"]),
            ),
            metadata=caller(request),
        )
        options = shapes.session_options(updated.session_options)
        return web.json_response({"success": True, "sessionId": session_id, "sessionOptions": options})

    async def send(self, request: web.Request) -> web.Response:
        """Returns once the message is stored, as the seed returned at once; the turn runs on its own."""
        session_id = request.match_info["session_id"]
        content = _string(await _body(request), "content")
        await self._stub.SendMessage(
            api.SendMessageRequest(session_id=session_id, content=content), metadata=caller(request)
        )
        return web.json_response({"success": True, "sessionId": session_id})
