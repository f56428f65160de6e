"""The bus between the replicas of a fleet: live events, session changes and hand-offs.

What travels on it is a hint, never the record: events are stored before they are published, and a
replica that misses a message reads storage instead. So a bus may drop or delay a message without
anything being lost or shown twice, and a stream falls back to reading storage while the bus is down.
A single runtime has no other replica to hear (LocalBus: nothing travels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2


class BusListener(Protocol):
    """What a replica does with what other replicas publish."""

    def events_published(self, session_id: str, events: Sequence[events_pb2.SessionEvent], head: int) -> None:
        """Another replica stored these events of the session (none: too many to carry; `head` says how far)."""
        ...

    def session_changed(self, change: agent_runtime_pb2.SessionChange) -> None: ...

    def handed_off(self, session_id: str) -> None:
        """A replica that stopped left the session with messages to run: whoever takes it first runs them."""
        ...

    def reconnected(self) -> None:
        """The bus was down and is back: what was published meanwhile is in storage only."""
        ...


class Bus(Protocol):
    @property
    def shared(self) -> bool:
        """Whether other replicas may write this runtime's sessions (a fleet)."""
        ...

    @property
    def live(self) -> bool:
        """Whether what other replicas publish arrives now; while not, streams read storage instead."""
        ...

    def problem(self) -> str:
        """Why the bus is not live, in words; empty while it is."""
        ...

    async def start(self, listener: BusListener) -> None: ...

    def publish_events(self, session_id: str, events: Sequence[events_pb2.SessionEvent], head: int) -> None: ...

    async def follow_events(self, session_id: str) -> None:
        """Events other replicas publish for the session reach the listener from when this returns."""
        ...

    def unfollow_events(self, session_id: str) -> None: ...

    def publish_change(self, change: agent_runtime_pb2.SessionChange) -> None: ...

    def publish_handoff(self, session_id: str) -> None: ...

    async def close(self) -> None: ...
