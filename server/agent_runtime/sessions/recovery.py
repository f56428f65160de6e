"""After a crash: what a dead runtime left of a session is settled when the session is next loaded,
before anything else touches it. A turn that was running is marked interrupted, with an error block
and a turn_completed event, so every stream shows how it ended; its transcript is still the one saved
when the turn before it ended, so the conversation goes on from a consistent point. The accepted
messages that never ran stay in the inbox and run in order.

At start, every session whose log shows such work is loaded, so its messages run without anyone
asking; loading is the only way in, so nothing here races with a caller's own load.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2, persistence_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.errors import ApiError
from agent_runtime.events.log import EventLog
from agent_runtime.sessions.inbox import Inbox, read_inbox
from agent_runtime.storage.client import StorageClient

INTERRUPTED = events_pb2.TURN_OUTCOME_INTERRUPTED
MESSAGE = "the runtime stopped during this turn"


async def close_interrupted_turn(events: EventLog, session_id: str, inbox: Inbox) -> None:
    """Ends the turn the inbox says was running when its runtime died."""
    if inbox.running is None:
        return
    turn_id, inbox.running = inbox.running, None
    emitter = BlockEmitter(events, session_id)
    error = blocks_pb2.ErrorBlock(message=MESSAGE, code=events_pb2.TurnOutcome.Name(INTERRUPTED))
    emitter.whole(blocks_pb2.ConversationBlock(id=f"{turn_id}-error", error=error))
    completed = events_pb2.TurnCompleted(
        turn_id=turn_id, outcome=INTERRUPTED, message=MESSAGE, messages_waiting=len(inbox.waiting)
    )
    emitter.emit(events_pb2.SessionEvent(turn_completed=completed))
    await events.flush(session_id)


async def sessions_with_work(storage: StorageClient, events: EventLog) -> AsyncIterator[str]:
    """Every stored session whose log shows a turn left running or a message still waiting."""
    token = ""
    while True:
        page = await storage.call(
            storage.stub.ListAllSessions, persistence_pb2.ListAllSessionsRequest(page_size=1000, page_token=token)
        )
        for record in page.sessions:
            try:
                inbox = await read_inbox(events, record.session_id)
            except ApiError as error:
                if error.code == grpc.StatusCode.NOT_FOUND:
                    continue  # deleted since it was listed
                raise
            if inbox.running is not None or inbox.waiting:
                yield record.session_id
        token = page.next_page_token
        if not token:
            return
