"""Where a call for a session is answered, in a fleet: by the replica that holds the session's lease.

A call for a session loaded here is answered here. Otherwise storage says who holds the lease: another
replica's call is forwarded to it; a session nobody holds is handled here, and a message loads it here,
taking the lease (if another replica took it meanwhile, the call goes there instead). A single runtime
answers everything itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, session_pb2
from agent_runtime.errors import ApiError
from agent_runtime.fleet.forwarding import OwnerForwarder, forwarded_by
from agent_runtime.fleet.lease_keeper import LeaseKeeper
from agent_runtime.sessions.manager import SessionManager
from agent_runtime.sessions.validation import check_session_id
from agent_runtime.storage.leases import LEASE_HELD

T = TypeVar("T")
Context = Any  # grpc.aio.ServicerContext
# How long GetSession waits for the owner's runtime state before showing what storage knows of it.
RUNTIME_STATE_SECONDS = 2.0


class SessionRouter:
    def __init__(
        self, sessions: SessionManager, leases: LeaseKeeper | None = None, forwarder: OwnerForwarder | None = None
    ) -> None:
        """`leases` and `forwarder` in a fleet; a single runtime has neither."""
        self._sessions = sessions
        self._leases = leases
        self._forwarder = forwarder

    async def call(
        self, method: str, session_id: str, request: Any, context: Context, here: Callable[[], Awaitable[T]]
    ) -> T:
        """The answer to the AgentRuntime `method` for the session: `here`, or its owner's."""
        if self._leases is None or self._sessions.owns(session_id):
            return await here()
        check_session_id(session_id)
        lease = await self._leases.lookup(session_id)  # NOT_FOUND for an unknown session
        if lease.held and lease.replica_id != self._leases.replica_id:
            return await self._forward(method, session_id, request, context, (lease.replica_id, lease.address))
        try:
            return await here()
        except ApiError as error:
            if error.reason != LEASE_HELD:
                raise
            owner = (error.metadata.get("replica_id", ""), error.metadata.get("address", ""))
            return await self._forward(method, session_id, request, context, owner)

    async def _forward(self, method: str, session_id: str, request: Any, context: Context, owner: tuple[str, str]) -> T:
        if self._forwarder is None or forwarded_by(
            context
        ):  # sent here as its owner, and it moved on: once round is enough
            raise ApiError(
                grpc.StatusCode.UNAVAILABLE,
                "OWNER_MOVED",
                f"session {session_id!r} moved to replica {owner[0]!r} while this call was on its way; try again",
                metadata={"session_id": session_id, "replica_id": owner[0], "address": owner[1]},
            )
        answer: T = await self._forwarder.call(method, request, context, session_id, owner)
        return answer

    async def get_session(self, request: agent_runtime_pb2.GetSessionRequest, context: Context) -> session_pb2.Session:
        """The session, with its runtime state as the replica holding it has it."""
        session = await self._sessions.get(request.session_id, request.view)
        if self._leases is None or self._forwarder is None or self._sessions.owns(request.session_id):
            return session
        lease = await self._leases.lookup(request.session_id)
        if not lease.held or lease.replica_id == self._leases.replica_id:
            session.runtime.Clear()  # nobody holds it: what another replica last said is over
            return session
        basic = agent_runtime_pb2.GetSessionRequest(session_id=request.session_id, view=session_pb2.SESSION_VIEW_BASIC)
        owner = (lease.replica_id, lease.address)
        try:
            held = await self._forwarder.call(
                "GetSession", basic, context, request.session_id, owner, RUNTIME_STATE_SECONDS
            )
            session.runtime.CopyFrom(held.runtime)
        except ApiError:  # the owner does not answer: what storage knows
            session.runtime.CopyFrom(
                session_pb2.RuntimeState(
                    loaded=True, owner_replica_id=lease.replica_id, lease_generation=lease.generation
                )
            )
        return session
