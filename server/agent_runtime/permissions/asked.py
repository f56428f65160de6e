"""Whether a session's log ever asked for an approval or a client tool's result: an answer to one that the
session does not wait for (any more) is told it is closed, not that there is no such thing."""

from __future__ import annotations

from agent_runtime.events.log import EventLog

PAGE = 1000


async def asked_in_log(events: EventLog, session_id: str, request_id: str) -> bool:
    """Reads the log from its start: an answer to a closed request is rare, and never on a turn's way."""
    cursor = 0
    while True:
        page = await events.read(session_id, cursor, PAGE)
        for event in page.events:
            if (event.HasField("approval_requested") and event.approval_requested.approval_id == request_id) or (
                event.HasField("client_tool_call") and event.client_tool_call.call_id == request_id
            ):
                return True
        if not page.events or page.events[-1].sequence >= page.last_sequence:
            return False
        cursor = page.events[-1].sequence
