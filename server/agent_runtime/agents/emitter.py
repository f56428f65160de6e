"""Block events of one conversation of a session, sent through the EventLog (the one road)."""

from __future__ import annotations

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.events.log import EventLog
from agent_runtime.timestamps import now

MAIN = "main"


class BlockEmitter:
    def __init__(
        self,
        log: EventLog,
        session_id: str,
        conversation_id: str = MAIN,
        open_blocks: dict[str, tuple[BlockEmitter, blocks_pb2.ConversationBlock]] | None = None,
        spent: blocks_pb2.Usage | None = None,
    ) -> None:
        self._log = log
        self._session_id = session_id
        self._conversation_id = conversation_id
        # Started and not yet completed, in every conversation of the session: what an interrupted turn
        # must close.
        self._open = {} if open_blocks is None else open_blocks
        # The token counts reported since take_spent(), in every conversation of the session.
        self._spent = blocks_pb2.Usage() if spent is None else spent

    def conversation(self, conversation_id: str) -> BlockEmitter:
        """The emitter of another conversation of the session (a subagent's), sharing the open blocks."""
        if conversation_id == self._conversation_id:
            return self
        return BlockEmitter(self._log, self._session_id, conversation_id, self._open, self._spent)

    def emit(self, event: events_pb2.SessionEvent) -> None:
        event.session_id = self._session_id
        event.conversation_id = event.conversation_id or self._conversation_id
        if event.HasField("metadata_update"):  # each report counts what no earlier one did
            add_usage(self._spent, event.metadata_update.usage)
        self._log.append(event)

    def take_spent(self) -> blocks_pb2.Usage:
        """The token counts reported since the last take."""
        taken = blocks_pb2.Usage()
        taken.CopyFrom(self._spent)
        self._spent.Clear()
        return taken

    def start(self, block: blocks_pb2.ConversationBlock) -> None:
        if not block.HasField("timestamp"):
            block.timestamp.CopyFrom(now())
        self._open[block.id] = (self, block)
        self.emit(events_pb2.SessionEvent(block_start=events_pb2.BlockStart(block=block)))

    def delta(self, block_id: str, text: str, kind: events_pb2.DeltaKind.ValueType) -> None:
        self.emit(events_pb2.SessionEvent(block_delta=events_pb2.BlockDelta(block_id=block_id, delta=text, kind=kind)))

    def is_open(self, block_id: str) -> bool:
        return block_id in self._open

    def update(self, block: blocks_pb2.ConversationBlock) -> None:
        if block.id in self._open:
            self._open[block.id] = (self, block)
        self.emit(events_pb2.SessionEvent(block_update=events_pb2.BlockUpdate(block_id=block.id, block=block)))

    def complete(self, block: blocks_pb2.ConversationBlock) -> None:
        if not block.HasField("timestamp"):
            block.timestamp.CopyFrom(now())
        self._open.pop(block.id, None)
        self.emit(events_pb2.SessionEvent(block_complete=events_pb2.BlockComplete(block_id=block.id, block=block)))

    def close_open_blocks(self) -> None:
        """Completes every block still open (the turn was interrupted or failed); a tool call or subagent
        in flight is completed with status ERROR."""
        for emitter, block in list(self._open.values()):
            if block.HasField("tool_use"):
                block.tool_use.status = blocks_pb2.TOOL_STATUS_ERROR
            elif block.HasField("subagent"):
                block.subagent.status = blocks_pb2.TOOL_STATUS_ERROR
            emitter.complete(block)

    def whole(self, block: blocks_pb2.ConversationBlock) -> None:
        """A block that is complete when it appears (a user message, a tool result)."""
        self.start(block)
        self.complete(block)


def add_usage(total: blocks_pb2.Usage, more: blocks_pb2.Usage) -> None:
    for field in total.DESCRIPTOR.fields:
        setattr(total, field.name, getattr(total, field.name) + getattr(more, field.name))
