"""After a crash: what a dead runtime left of a session is settled when the session is next loaded,
before anything else touches it. A turn that was running is marked interrupted, with an error block
and a turn_completed event, so every stream shows how it ended; its transcript is still the one saved
when the turn before it ended, so the conversation goes on from a consistent point. The tokens its
model calls reported are in the log, not in the stored usage: the inbox keeps them (running_spent) for
the loaded session to store. The accepted messages that never ran stay in the inbox and run in order.

At start, every stored session is looked at this way and loaded if its log shows such work, so its
messages run without anyone asking; loading is the only way in, so nothing races with a caller's load.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from google.protobuf import struct_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2, persistence_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.events.log import EventLog
from agent_runtime.sessions.inbox import Inbox
from agent_runtime.storage.client import StorageClient

INTERRUPTED = events_pb2.TURN_OUTCOME_INTERRUPTED
MESSAGE = "the runtime stopped during this turn"
STOPPED = "runtime stopped"  # who closed what the turn waited for


async def close_interrupted_turn(events: EventLog, session_id: str, inbox: Inbox) -> None:
    """Ends the turn the inbox says was running when its runtime died; its running_spent stays."""
    if inbox.running is None:
        return
    turn_id, inbox.running = inbox.running, None
    emitter = BlockEmitter(events, session_id)
    for approval_id in inbox.open_approvals:  # nobody can answer what a dead runtime waited for
        denied = events_pb2.ApprovalResolved(
            approval_id=approval_id, decision=events_pb2.APPROVAL_DECISION_DENY, answered_by=STOPPED, message=MESSAGE
        )
        emitter.emit(events_pb2.SessionEvent(approval_resolved=denied))
    for call_id in inbox.open_tool_calls:
        failed = events_pb2.ClientToolResult(
            call_id=call_id, output=struct_pb2.Value(string_value=MESSAGE), is_error=True, answered_by=STOPPED
        )
        emitter.emit(events_pb2.SessionEvent(client_tool_result=failed))
    inbox.open_approvals, inbox.open_tool_calls = [], []
    error = blocks_pb2.ErrorBlock(message=MESSAGE, code=events_pb2.TurnOutcome.Name(INTERRUPTED))
    emitter.whole(blocks_pb2.ConversationBlock(id=f"{turn_id}-error", error=error))
    completed = events_pb2.TurnCompleted(
        turn_id=turn_id, outcome=INTERRUPTED, message=MESSAGE, messages_waiting=len(inbox.waiting)
    )
    emitter.emit(events_pb2.SessionEvent(turn_completed=completed))
    await events.flush(session_id)


async def stored_session_ids(storage: StorageClient) -> AsyncIterator[str]:
    """The id of every stored session, a page at a time."""
    token = ""
    while True:
        page = await storage.call(
            storage.stub.ListAllSessions, persistence_pb2.ListAllSessionsRequest(page_size=1000, page_token=token)
        )
        for record in page.sessions:
            yield record.session_id
        token = page.next_page_token
        if not token:
            return
