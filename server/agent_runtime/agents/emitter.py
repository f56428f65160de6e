"""Block events of one conversation of a session, sent through the EventLog (the one road)."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.events.log import EventLog

MAIN = "main"


def now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


class BlockEmitter:
    def __init__(self, log: EventLog, session_id: str, conversation_id: str = MAIN) -> None:
        self._log = log
        self._session_id = session_id
        self._conversation_id = conversation_id
        # Started and not yet completed: what an interrupted turn must close.
        self._open: dict[str, blocks_pb2.ConversationBlock] = {}

    def emit(self, event: events_pb2.SessionEvent) -> None:
        event.session_id = self._session_id
        event.conversation_id = event.conversation_id or self._conversation_id
        self._log.append(event)

    def start(self, block: blocks_pb2.ConversationBlock) -> None:
        if not block.HasField("timestamp"):
            block.timestamp.CopyFrom(now())
        self._open[block.id] = block
        self.emit(events_pb2.SessionEvent(block_start=events_pb2.BlockStart(block=block)))

    def delta(self, block_id: str, text: str, kind: events_pb2.DeltaKind.ValueType) -> None:
        self.emit(events_pb2.SessionEvent(block_delta=events_pb2.BlockDelta(block_id=block_id, delta=text, kind=kind)))

    def update(self, block: blocks_pb2.ConversationBlock) -> None:
        if block.id in self._open:
            self._open[block.id] = block
        self.emit(events_pb2.SessionEvent(block_update=events_pb2.BlockUpdate(block_id=block.id, block=block)))

    def complete(self, block: blocks_pb2.ConversationBlock) -> None:
        if not block.HasField("timestamp"):
            block.timestamp.CopyFrom(now())
        self._open.pop(block.id, None)
        self.emit(events_pb2.SessionEvent(block_complete=events_pb2.BlockComplete(block_id=block.id, block=block)))

    def close_open_blocks(self) -> None:
        """Completes every block still open (the turn was interrupted or failed); a tool call in flight
        is completed with status ERROR."""
        for block in list(self._open.values()):
            if block.HasField("tool_use"):
                block.tool_use.status = blocks_pb2.TOOL_STATUS_ERROR
            self.complete(block)

    def whole(self, block: blocks_pb2.ConversationBlock) -> None:
        """A block that is complete when it appears (a user message, a tool result)."""
        self.start(block)
        self.complete(block)
