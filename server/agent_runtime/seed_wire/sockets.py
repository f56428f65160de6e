"""The seed's Socket.IO API on the HTTP address (path /socket.io): `session:join` and `session:leave` from
the client, and the seed's events to each joined socket, read from the session's event log through the
gRPC API with the socket's key, in order. A join may pass `{afterSequence}` (the last sequence the client
saw, which every payload carries) to get what it missed first; without it, events start at the head, as
the seed's did. Unlike the seed's, a socket needs the key: in its `auth` payload (`{token}`), an
`Authorization` header, or a `token` query parameter. `sessions:list` goes to every socket with the key
when a session is created, loaded or unloaded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import grpc
import socketio

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import session_pb2
from agent_runtime.event_head import call_error, head_sequence
from agent_runtime.key_check import presented_key, refusal
from agent_runtime.seed_wire import shapes
from agent_runtime.seed_wire.errors import key_refusal
from agent_runtime.seed_wire.events import socket_event
from agent_runtime.seed_wire.reads import session_list, shown_file
from agent_runtime.seed_wire.shapes import Json

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub

log = logging.getLogger(__name__)

WITH_KEY = "authenticated"  # the room of every socket that presented the key
FILE_EVENTS = ("session:file:created", "session:file:modified")
LIST_CHANGES = (api.SESSION_CHANGE_KIND_CREATED, api.SESSION_CHANGE_KIND_DELETED, api.SESSION_CHANGE_KIND_STATUS)


def _presented(environ: dict[str, Any], auth: Any) -> str | None:
    """The key a connection presents: `auth.token`, the Authorization header, or `?token=`."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return presented_key(auth["token"])
    if "HTTP_AUTHORIZATION" in environ:
        return presented_key(environ["HTTP_AUTHORIZATION"])
    tokens = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("token")
    return presented_key(tokens[0]) if tokens else None


def _after(options: Any) -> int | None:
    """The sequence a join resumes after, if it gives one."""
    after = options.get("afterSequence") if isinstance(options, dict) else None
    if after is None or (isinstance(after, int) and not isinstance(after, bool) and after >= 0):
        return after
    raise ValueError("afterSequence must be a sequence number, 0 or more")


class SeedSockets:
    def __init__(self, stub: AgentRuntimeAsyncStub, api_key: str, cors_origins: Iterable[str]) -> None:
        origins = list(cors_origins)
        # None: the same origin only (the browser's own page); a list: those origins as well.
        self.server = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=origins or None)
        self._stub = stub
        self._key = api_key
        self._keys: dict[str, str] = {}  # each connected socket's key
        self._followers: dict[tuple[str, str], asyncio.Task[None]] = {}  # (socket, session): its events
        self._loaded: dict[str, bool] = {}  # what sessions:list last said of each session
        self.server.on("connect", self._connect)
        self.server.on("disconnect", self._disconnect)
        self.server.on("session:join", self._join)
        self.server.on("session:leave", self._leave)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        presented = _presented(environ, auth)
        if refusal(presented, self._key.encode()) is not None:
            refused = key_refusal(presented)
            # The client's connect_error: its message, and {code} as its data.
            raise socketio.exceptions.ConnectionRefusedError(str(refused), {"code": refused.code})
        self._keys[sid] = presented or ""
        await self.server.enter_room(sid, WITH_KEY)

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        for key in [key for key in self._followers if key[0] == sid]:
            self._followers.pop(key).cancel()
        self._keys.pop(sid, None)

    def _caller(self, sid: str) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self._keys[sid]}"),)

    async def _join(self, sid: str, session_id: Any, options: Any = None) -> Json:
        """Acks {success: true} once the socket follows the session, after its `session:status`."""
        if not isinstance(session_id, str) or not session_id:
            return {"success": False, "error": "session:join takes the session's id"}
        try:
            after = _after(options)
            session = await self._stub.GetSession(
                api.GetSessionRequest(session_id=session_id, view=session_pb2.SESSION_VIEW_BASIC),
                metadata=self._caller(sid),
            )
            head = await head_sequence(self._stub, session_id, self._caller(sid))
        except grpc.aio.AioRpcError as error:
            return {"success": False, "error": call_error(error).message}
        except ValueError as error:
            return {"success": False, "error": str(error)}
        if after is not None and after > head:
            return {"success": False, "error": f"afterSequence {after} is beyond the session's last event, {head}"}
        if sid not in self._keys:  # gone while the runtime answered
            return {"success": False, "error": "the socket disconnected"}
        await self.server.emit(
            "session:status", {"sessionId": session_id, "runtime": shapes.runtime(session.runtime)}, to=sid
        )
        self._stop_following(sid, session_id)
        self._followers[sid, session_id] = asyncio.create_task(
            self._follow(sid, session_id, head if after is None else after)
        )
        return {"success": True}

    async def _leave(self, sid: str, session_id: Any, *_: Any) -> Json:
        if isinstance(session_id, str):
            self._stop_following(sid, session_id)
        return {"success": True}

    def _stop_following(self, sid: str, session_id: str) -> None:
        follower = self._followers.pop((sid, session_id), None)
        if follower is not None:
            follower.cancel()

    async def _follow(self, sid: str, session_id: str, after: int) -> None:
        """The session's events after `after`, to the socket, in order, until it leaves or goes."""
        call = self._stub.StreamSessionEvents(
            api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True),
            metadata=self._caller(sid),
        )
        try:
            async for response in call:
                mapped = socket_event(response.event) if response.HasField("event") else None
                if mapped is None:
                    continue
                name, payload = mapped
                if name in FILE_EVENTS:
                    payload["file"] = await shown_file(
                        self._stub, session_id, payload["file"]["path"], self._caller(sid)
                    )
                await self.server.emit(name, payload, to=sid)
        except grpc.aio.AioRpcError as error:  # the session was deleted, or the runtime is stopping
            ended = call_error(error)
            message = {"message": ended.message, "code": ended.reason, "sessionId": session_id}
            with contextlib.suppress(Exception):
                await self.server.emit("error", message, to=sid)

    async def close(self) -> None:
        """Ends every socket's following of its sessions (the runtime is stopping)."""
        followers = list(self._followers.values())
        self._followers.clear()
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)

    async def announce_lists(self) -> None:
        """Sends `sessions:list` to every socket with the key whenever a session is created, deleted, loaded
        or unloaded, for as long as the runtime runs; a broken watch is opened again."""
        metadata = (("authorization", f"Bearer {self._key}"),)
        while True:
            try:
                async for response in self._stub.WatchSessions(api.WatchSessionsRequest(), metadata=metadata):
                    if response.HasField("change") and self._changes_the_list(response.change):
                        await self.server.emit("sessions:list", await session_list(self._stub, metadata), room=WITH_KEY)
            except grpc.aio.AioRpcError as error:
                log.debug("the session watch for sessions:list ended (%s); opening it again", error.code())
            await asyncio.sleep(1.0)

    def _changes_the_list(self, change: api.SessionChange) -> bool:
        if change.kind not in LIST_CHANGES:
            return False
        session_id, loaded = change.session.session_id, change.session.runtime.loaded
        before = self._loaded.get(session_id)
        self._loaded[session_id] = loaded
        if change.kind == api.SESSION_CHANGE_KIND_DELETED:
            self._loaded.pop(session_id, None)
        return change.kind != api.SESSION_CHANGE_KIND_STATUS or before != loaded
