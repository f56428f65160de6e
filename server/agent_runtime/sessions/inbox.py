"""The durable inbox: what a session's log says about its messages, read back when it is loaded.

SendMessage stores a message_accepted event before it answers; turn_started says a message began and
turn_completed that it ended (outcome CANCELLED: it never ran). So the log alone tells which turn was
running when a runtime died and which accepted messages still wait, in the order they were to run.

Reading starts at the head and goes back only as far as it must: a turn_completed with no message
waiting behind it is a point before which everything is settled. Request ids older than that are read
from the rest of the log the first time a retried SendMessage needs one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.agents.emitter import add_usage
from agent_runtime.events.log import EventLog

PAGE = 512


@dataclass
class Inbox:
    """A session's messages as its log tells them."""

    running: str | None = None  # the turn that started and never ended
    waiting: list[events_pb2.MessageAccepted] = field(default_factory=list)  # in the order they run
    by_request: dict[str, events_pb2.MessageAccepted] = field(default_factory=dict)
    unread_before: int = 0  # the log before this sequence was not read (0: it was read to its start)
    # What the running turn asked its caller and got no answer to: approval ids, client tool call ids.
    open_approvals: list[str] = field(default_factory=list)
    open_tool_calls: list[str] = field(default_factory=list)
    # The tokens the running turn's model calls reported. Usage is stored when a turn starts and ends,
    # so a runtime that died mid-turn stored none of these: the log is where they are kept.
    running_spent: blocks_pb2.Usage = field(default_factory=blocks_pb2.Usage)

    def apply(self, event: events_pb2.SessionEvent) -> None:
        """Follows one event, in log order."""
        kind = event.WhichOneof("payload")
        if kind == "message_accepted":
            accepted = event.message_accepted
            at = accepted.queue_position - 1 if accepted.queued else len(self.waiting)
            self.waiting.insert(max(at, 0), accepted)
            self.remember(accepted)
        elif kind == "turn_started":
            self._drop(event.turn_started.turn_id)
            self.running = event.turn_started.turn_id
            self.running_spent = blocks_pb2.Usage()
        elif kind == "turn_completed":
            self._drop(event.turn_completed.turn_id)
            if self.running == event.turn_completed.turn_id:
                self.running = None
                self.open_approvals, self.open_tool_calls = [], []
                self.running_spent = blocks_pb2.Usage()
        elif kind == "metadata_update" and self.running is not None:
            add_usage(self.running_spent, event.metadata_update.usage)
        elif kind == "approval_requested":
            self.open_approvals.append(event.approval_requested.approval_id)
        elif kind == "approval_resolved" and event.approval_resolved.approval_id in self.open_approvals:
            self.open_approvals.remove(event.approval_resolved.approval_id)
        elif kind == "client_tool_call":
            self.open_tool_calls.append(event.client_tool_call.call_id)
        elif kind == "client_tool_result" and event.client_tool_result.call_id in self.open_tool_calls:
            self.open_tool_calls.remove(event.client_tool_result.call_id)

    def remember(self, accepted: events_pb2.MessageAccepted) -> None:
        if accepted.request_id:
            self.by_request[accepted.request_id] = accepted

    def _drop(self, turn_id: str) -> None:
        self.waiting = [m for m in self.waiting if m.turn_id != turn_id]


def _settled_before(event: events_pb2.SessionEvent) -> bool:
    """Whether nothing before this event can still run or be running."""
    return event.HasField("turn_completed") and event.turn_completed.messages_waiting == 0


async def read_inbox(events: EventLog, session_id: str) -> Inbox:
    """The session's inbox, from its log's tail back to the last settled point."""
    cursor = await events.head(session_id)
    tail: list[events_pb2.SessionEvent] = []
    while cursor > 0:
        start = max(0, cursor - PAGE)
        page = list((await events.read(session_id, start, cursor - start)).events)
        settled = next((i for i in range(len(page) - 1, -1, -1) if _settled_before(page[i])), None)
        if settled is not None:
            tail[:0] = page[settled + 1 :]
            cursor = page[settled].sequence
            break
        tail[:0] = page
        cursor = start
    inbox = Inbox(unread_before=cursor)
    for event in tail:
        inbox.apply(event)
    return inbox


async def find_request(events: EventLog, session_id: str, inbox: Inbox, request_id: str) -> bool:
    """Whether the request id was accepted before; reads what of the log is still unread, once."""
    if request_id in inbox.by_request:
        return True
    while inbox.unread_before > 0:
        start = max(0, inbox.unread_before - PAGE)
        page = await events.read(session_id, start, inbox.unread_before - start)
        for event in page.events:
            if event.HasField("message_accepted") and event.message_accepted.request_id:
                inbox.by_request.setdefault(event.message_accepted.request_id, event.message_accepted)
        inbox.unread_before = start
    return request_id in inbox.by_request
