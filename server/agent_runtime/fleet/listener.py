"""What a replica does with what the other replicas of its fleet publish on the bus."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2
from agent_runtime.events.log import EventLog
from agent_runtime.sessions.manager import SessionManager
from agent_runtime.sessions.watch_hub import SessionWatchHub


class ReplicaListener:
    def __init__(self, events: EventLog, watchers: SessionWatchHub, sessions: SessionManager) -> None:
        self._events = events
        self._watchers = watchers
        self._sessions = sessions
        self._handoffs: set[asyncio.Task[None]] = set()

    def events_published(self, session_id: str, events: Sequence[events_pb2.SessionEvent], head: int) -> None:
        self._events.published(session_id, events, head)

    def session_changed(self, change: agent_runtime_pb2.SessionChange) -> None:
        self._watchers.published_elsewhere(change)

    def handed_off(self, session_id: str) -> None:
        task = asyncio.create_task(self._sessions.take_handoff(session_id))
        self._handoffs.add(task)
        task.add_done_callback(self._handoffs.discard)

    def reconnected(self) -> None:
        self._events.check_storage()
