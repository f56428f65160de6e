"""Whether a session's log ever asked for an approval or a client tool's result: an answer to one that the
session does not wait for (any more) is told it is closed, not that there is no such thing."""

from __future__ import annotations

from agent_runtime._gen.agentruntime.v1 import events_pb2
from agent_runtime.events.log import EventLog

PAGE = 1000


def _ids(asked: events_pb2.ApprovalRequested | events_pb2.ClientToolCall) -> tuple[str, str]:
    """The ids an answer may name a request by: its own, or its call's tool_use_id."""
    own = asked.approval_id if isinstance(asked, events_pb2.ApprovalRequested) else asked.call_id
    return own, asked.tool_use_id or own


async def asked_in_log(events: EventLog, session_id: str, request_id: str) -> bool:
    """`request_id`: an approval's or a call's id, or its call's tool_use_id. Reads the log from its start:
    an answer to a closed request is rare, and never on a turn's way."""
    cursor = 0
    while True:
        page = await events.read(session_id, cursor, PAGE)
        for event in page.events:
            if (event.HasField("approval_requested") and request_id in _ids(event.approval_requested)) or (
                event.HasField("client_tool_call") and request_id in _ids(event.client_tool_call)
            ):
                return True
        if not page.events or page.events[-1].sequence >= page.last_sequence:
            return False
        cursor = page.events[-1].sequence
