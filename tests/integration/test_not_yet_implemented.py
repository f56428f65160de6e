"""RPCs whose issues have not landed answer UNIMPLEMENTED, saying so, and never pretend to succeed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from tests.integration.conftest import AUTH, rpc_error
from tests.support.rpc import assert_error

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

SESSION = "3a1f0f3e-8d4b-4c55-9b0e-5b0c6f3f9a10"


CALLS: dict[str, Callable[[Stub], Awaitable[Any]]] = {
    "SyncSession": lambda s: s.SyncSession(api.SyncSessionRequest(session_id=SESSION), metadata=AUTH),
}


@pytest.mark.parametrize("method", CALLS, ids=list(CALLS))
async def test_not_yet_implemented(stub: Stub, method: str) -> None:
    error = await rpc_error(CALLS[method](stub))
    assert_error(error, grpc.StatusCode.UNIMPLEMENTED, "NOT_IMPLEMENTED_YET")
    assert method in (error.details() or "")
