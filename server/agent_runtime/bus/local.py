"""The bus of a single runtime: there is no other replica, so nothing is published or heard."""

from __future__ import annotations

from collections.abc import Sequence

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2, events_pb2
from agent_runtime.bus.base import BusListener


class LocalBus:
    shared = False
    live = True

    def problem(self) -> str:
        return ""

    async def start(self, listener: BusListener) -> None:
        pass

    def publish_events(self, session_id: str, events: Sequence[events_pb2.SessionEvent], head: int) -> None:
        pass

    async def follow_events(self, session_id: str) -> None:
        pass

    def unfollow_events(self, session_id: str) -> None:
        pass

    def publish_change(self, change: agent_runtime_pb2.SessionChange) -> None:
        pass

    def publish_handoff(self, session_id: str) -> None:
        pass

    async def close(self) -> None:
        pass
