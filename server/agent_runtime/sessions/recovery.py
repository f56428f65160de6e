"""After a restart: a turn that was running when the runtime died is marked interrupted, with an error
block and a turn_completed event, so every stream shows how it ended. The transcript is still the
one saved when the turn before it ended, so the conversation goes on from a consistent point."""

from __future__ import annotations

import logging
from collections.abc import Callable

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2, persistence_pb2
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.events.log import EventLog
from agent_runtime.storage.client import StorageClient

log = logging.getLogger(__name__)

PAGE = 256
INTERRUPTED = events_pb2.TURN_OUTCOME_INTERRUPTED
MESSAGE = "the runtime stopped during this turn"


async def unfinished_turn(events: EventLog, session_id: str) -> str | None:
    """The id of the session's last turn if it started and never completed, reading back from the head."""
    cursor = await events.head(session_id)
    while cursor > 0:
        start = max(0, cursor - PAGE)
        page = await events.read(session_id, start, cursor - start)
        for event in reversed(page.events):
            if event.HasField("turn_completed"):
                return None
            if event.HasField("turn_started"):
                return event.turn_started.turn_id
        cursor = start
    return None


async def mark_interrupted_turns(storage: StorageClient, events: EventLog, is_live: Callable[[str], bool]) -> int:
    """Closes every turn a dead runtime left open; returns how many. Runs beside serving: a session this
    runtime has loaded meanwhile is left alone, since its last turn may be this runtime's own."""
    marked, token = 0, ""
    while True:
        page = await storage.call(
            storage.stub.ListAllSessions, persistence_pb2.ListAllSessionsRequest(page_size=1000, page_token=token)
        )
        for record in page.sessions:
            turn_id = await unfinished_turn(events, record.session_id)
            if turn_id is None or is_live(record.session_id):
                continue
            emitter = BlockEmitter(events, record.session_id)
            error = blocks_pb2.ErrorBlock(message=MESSAGE, code=events_pb2.TurnOutcome.Name(INTERRUPTED))
            emitter.whole(blocks_pb2.ConversationBlock(id=f"{turn_id}-error", error=error))
            completed = events_pb2.TurnCompleted(turn_id=turn_id, outcome=INTERRUPTED, message=MESSAGE)
            emitter.emit(events_pb2.SessionEvent(turn_completed=completed))
            await events.flush(record.session_id)
            marked += 1
        token = page.next_page_token
        if not token:
            return marked
